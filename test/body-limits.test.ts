import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase, type Database } from '../src/db/client';
import { createSystemDatabase, type SystemDatabase } from '../src/db/system';
import { createGateway, type Gateway } from '../src/yoga';
import { TEST_SECRET, testUrls } from './helpers/harness';

/**
 * Bodies are bounded on every route (issue 13): a 400 MB chunked upload (the
 * issue's attack on the payment webhook) is answered 413 as soon as the limit
 * is crossed, the connection is closed so the rest is never received, and the
 * process' memory does not grow with the upload.
 */

let db: Database;
let system: SystemDatabase;
let gateway: Gateway;
let server: Server;
let port: number;

beforeAll(async () => {
  db = createDatabase({ url: testUrls().runtimeUrl, max: 2 });
  system = createSystemDatabase(testUrls().adminUrl);
  gateway = createGateway({ db, system, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false, paymentWebhookSecret: 'webhook-secret', maxRequestBodySize: 1_000_000 });
  server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.dispose();
  await db.close();
  await system.close();
});

const MB = 1024 * 1024;

/**
 * Streams up to `total` bytes of `{"pad":"xxxx…` chunked (or with a declared
 * Content-Length), honouring back-pressure, until the answer arrives or the
 * server closes the connection. Resolves with the status (0: closed without
 * one), the bytes sent and how long the answer took.
 */
function upload(path: string, total: number, declared = false): Promise<{ status: number; sent: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    let status = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      resolve({ status, sent, ms: performance.now() - started });
      req.destroy();
    };
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...(declared ? { 'content-length': String(total) } : {}) } },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', finish);
      },
    );
    req.on('error', finish);
    req.on('close', () => setTimeout(finish, 50));
    const pump = () => {
      while (!finished && sent < total) {
        sent += chunk.length;
        if (!req.write(sent === chunk.length ? Buffer.concat([Buffer.from('{"pad":"'), chunk.subarray(8)]) : chunk)) return void req.once('drain', pump);
      }
      if (!finished) req.end();
    };
    pump();
  });
}

describe.each([
  ['the payment webhook', '/webhooks/payments'],
  ['the GraphQL endpoint', '/graphql'],
])('%s', (_, path) => {
  it('answers a chunked 400 MB upload with 413 at its limit, without receiving the rest or growing', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const { status, sent, ms } = await upload(path, 400 * MB);
    const grown = process.memoryUsage().rss - before;
    expect(status).toBe(413);
    expect(sent).toBeLessThan(50 * MB);
    expect(ms).toBeLessThan(5_000);
    expect(grown).toBeLessThan(100 * MB);
  });

  it('answers a declared 400 MB Content-Length with 413 before reading it', async () => {
    const { status, sent } = await upload(path, 400 * MB, true);
    expect(status).toBe(413);
    expect(sent).toBeLessThan(50 * MB);
  });
});

describe.each([['/healthz'], ['/readyz'], ['/no-such-route']])('a route that reads no body, %s', (path) => {
  it('does not keep receiving a 400 MB chunked upload', async () => {
    const { sent, ms } = await upload(path, 400 * MB);
    expect(sent).toBeLessThan(50 * MB);
    expect(ms).toBeLessThan(5_000);
  });
});
