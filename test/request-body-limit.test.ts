import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDatabase, type Database } from '../src/db/client';
import { createTokenVerifier } from '../src/auth/tokens';
import { createGateway, type Gateway } from '../src/yoga';
import { TEST_SECRET, testUrls } from './helpers/harness';

/**
 * The request body limit (src/plugins/use-request-body-limit.ts), over real
 * HTTP: a body that declares its length is judged by its Content-Length, which
 * Node's HTTP parser holds it to; a chunked body is counted as it streams in.
 */

const LIMIT = 300;
let db: Database;
let gateway: Gateway;
let server: Server;
let port: number;

beforeAll(async () => {
  db = createDatabase({ url: testUrls().runtimeUrl, max: 1 });
  gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false, maxRequestBodySize: LIMIT });
  server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.dispose();
  await db.close();
});

/** POSTs `chunks` to /graphql, with a Content-Length when `declared`, else chunked. */
function post(chunks: string[], declared: boolean): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const length = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(declared ? { 'content-length': String(length) } : { 'transfer-encoding': 'chunked' }) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const small = JSON.stringify({ query: '{ __typename }' });
// Valid JSON and a valid query, padded past the limit with spaces.
const large = JSON.stringify({ query: `{ __typename ${' '.repeat(LIMIT)}}` });

it('accepts a body within the limit, with a Content-Length and chunked', async () => {
  for (const declared of [true, false]) {
    const response = await post([small], declared);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
  }
});

it('refuses a body whose Content-Length is over the limit, before reading it, and closes the connection', async () => {
  const response = await post([large], true);
  expect(response.status).toBe(413);
  // Closed: Node drops the rest of the upload instead of reading it to keep the connection alive.
  expect(response.connection).toBe('close');
  expect(JSON.parse(response.body).errors[0]).toMatchObject({ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } });
});

it('refuses a chunked body once more than the limit has streamed in', async () => {
  const response = await post([large.slice(0, 200), large.slice(200)], false);
  expect(response.status).toBe(413);
  expect(response.connection).toBe('close');
  expect(JSON.parse(response.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
});

it('refuses a Content-Length that is not one non-negative integer (in process, where no HTTP parser checks it)', async () => {
  const response = await gateway.fetch('http://tenantgate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': `${small.length}, ${small.length}` },
    body: small,
  });
  expect(response.status).toBe(400);
  expect((await response.json()).errors[0]).toMatchObject({ message: 'Content-Length header is invalid.', extensions: { code: 'BAD_REQUEST' } });
});
