import dns2 from 'dns2';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Real servers on 127.0.0.1, port 0, for domain verification and mail: a DNS
 * server (dns2) whose records the test sets, an HTTP server serving files the
 * test sets, and an SMTP server (smtp-server) that keeps what it receives.
 */

export interface TestDns {
  /** `127.0.0.1:<port>`, for DNS_SERVERS. */
  server: string;
  txt: Map<string, string[]>;
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
  close(): Promise<void>;
}

// @types/dns2 types answers as its internal Resource class; the server encodes plain records.
const record = (fields: object) => fields as never;

export async function startDns(): Promise<TestDns> {
  const txt = new Map<string, string[]>();
  const a = new Map<string, string[]>();
  const aaaa = new Map<string, string[]>();
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = question.name.toLowerCase();
      const base = { name: question.name, class: Packet.CLASS.IN, ttl: 1 };
      if (question.type === Packet.TYPE.TXT) for (const data of txt.get(name) ?? []) response.answers.push(record({ ...base, type: Packet.TYPE.TXT, data }));
      if (question.type === Packet.TYPE.A) for (const address of a.get(name) ?? []) response.answers.push(record({ ...base, type: Packet.TYPE.A, address }));
      if (question.type === Packet.TYPE.AAAA) for (const address of aaaa.get(name) ?? []) response.answers.push(record({ ...base, type: Packet.TYPE.AAAA, address }));
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const { port } = (server.addresses() as { udp: AddressInfo }).udp;
  return { server: `127.0.0.1:${port}`, txt, a, aaaa, close: () => server.close() };
}

export interface TestHttp {
  port: number;
  /** Bodies by Host header and path: `acme.test/.well-known/...`. */
  files: Map<string, string>;
  /** Redirects by Host header and path, to a URL. */
  redirects: Map<string, string>;
  /** Every request received: `host path`. */
  requests: string[];
  close(): Promise<void>;
}

export async function startHttp(host = '127.0.0.1'): Promise<TestHttp> {
  const files = new Map<string, string>();
  const redirects = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createHttpServer((request, response) => {
    const key = `${(request.headers.host ?? '').replace(/:\d+$/, '')}${request.url}`;
    requests.push(key);
    const location = redirects.get(key);
    if (location) return void response.writeHead(302, { location }).end();
    const body = files.get(key);
    if (body === undefined) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    files,
    redirects,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port with nothing listening (closed again at once): the HTTPS attempt that must fall back to HTTP. */
export async function closedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestSmtp {
  url: string;
  messages: ParsedMail[];
  /** Waits for the next message to `to`. */
  next(to: string, timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  const waiters: { to: string; resolve: (m: ParsedMail) => void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          const recipients = [mail.to].flat().flatMap((a) => a?.value.map((v) => v.address?.toLowerCase()) ?? []);
          for (const waiter of [...waiters]) {
            if (recipients.includes(waiter.to.toLowerCase())) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(mail);
            }
          }
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    next: (to, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const found = messages.find((m) => [m.to].flat().some((a) => a?.value.some((v) => v.address?.toLowerCase() === to.toLowerCase())));
        if (found) {
          messages.splice(messages.indexOf(found), 1);
          return resolve(found);
        }
        const timer = setTimeout(() => reject(new Error(`no mail to ${to} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ to, resolve: (m) => (clearTimeout(timer), messages.splice(messages.indexOf(m), 1), resolve(m)) });
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a mail's text. */
export function linkIn(mail: ParsedMail): string {
  const match = /https?:\/\/\S+/.exec(mail.text ?? '');
  if (!match) throw new Error(`no link in the mail "${mail.subject}"`);
  return match[0];
}
