import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** What one attempt of an outbound POST came to. */
export interface PostOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

export interface PostOptions {
  body: string;
  headers: Record<string, string>;
  /** @default 10_000 */
  timeoutMs?: number;
  /**
   * Allow private, loopback and link-local addresses (tests' local receivers).
   * SECURITY: off in production: an organization's URL must not reach the
   * platform's own network (WEBHOOK_ALLOW_PRIVATE_ADDRESSES).
   * @default false
   */
  allowPrivateAddresses?: boolean;
}

/**
 * PERF: connections are kept alive between deliveries to the same origin. A
 * kept socket was checked by the guard when it was opened (the lookup runs per
 * connection), so reusing it skips nothing.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50, maxFreeSockets: 10, timeout: 30_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50, maxFreeSockets: 10, timeout: 30_000 }),
};

/** Largest response body read; the rest is dropped (a receiver cannot make the worker buffer without bound). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Whether an address is a public unicast one: not private, loopback, link-local, CGNAT, multicast, reserved... */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * SECURITY: the SSRF guard runs on the addresses the connection will use, not on
 * the host name, so a DNS answer that points inside (or a rebinding one) is
 * refused at connect time.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return (callback as (e: Error) => void)(error);
      const refused = addresses.find((a) => !allowPrivate && !isPublicAddress(a.address));
      if (refused || addresses.length === 0) {
        return (callback as (e: Error) => void)(new Error(`refused address ${refused?.address ?? '(none)'} for ${hostname}: not a public address`));
      }
      if ((options as { all?: boolean }).all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      return (callback as (e: null, a: string, f: number) => void)(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * POSTs `body` to `url` once: a timeout, no redirects (a 3xx is a failure), the
 * SSRF guard. Resolves with the outcome; never rejects.
 */
export function post(url: string, { body, headers, timeoutMs = 10_000, allowPrivateAddresses = false }: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const outcome = (statusCode: number | null, error: string | null): PostOutcome => ({
    ok: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300,
    statusCode,
    latencyMs: Math.round(performance.now() - started),
    error: error ?? (statusCode !== null && (statusCode < 200 || statusCode >= 300) ? `HTTP ${statusCode}` : null),
  });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(outcome(null, 'invalid URL'));
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return Promise.resolve(outcome(null, 'only http(s) URLs'));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // Connecting to an address literal skips the lookup: judge it here.
  if (ipaddr.isValid(host) && !allowPrivateAddresses && !isPublicAddress(host)) {
    return Promise.resolve(outcome(null, `refused address ${host}: not a public address`));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup: guardedLookup(allowPrivateAddresses),
        agent: agents[target.protocol as keyof typeof agents],
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        const done = () => finish(outcome(response.statusCode ?? null, null));
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish(outcome(null, `timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', (error) => finish(outcome(null, error.message.slice(0, 300))));
    request.end(body);
  });
}
