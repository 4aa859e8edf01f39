import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signToken } from '../src/auth/tokens';
import { startHarness, TEST_SECRET, testUrls, type Harness, type TestOrganization } from './helpers/harness';
import { startGatewayProcess } from './helpers/gateway-process';

/**
 * Start and stop like a service: the gateway in its own process, signalled by
 * pid, with requests in flight; and the configuration mistakes a first start
 * meets, each a one-line message naming its variable.
 */

// Each test starts a gateway process (tsx compiles on start); on a busy machine that takes tens of seconds.
jest.setTimeout(300_000);

// The suite's own secret is shorter than production's 32 bytes on purpose elsewhere; this one is long enough.
const SECRET = `${TEST_SECRET}-and-some-more`;
let harness: Harness;
let org: TestOrganization;
let token: string;

beforeAll(async () => {
  harness = await startHarness();
  org = await harness.createOrganization('Service');
  token = await signToken({ secret: SECRET, userId: org.owner.id, organizationId: org.id, issuer: ISSUER, audience: AUDIENCE });
});
afterAll(() => harness.close());

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-i17-'));
  chmodSync(dir, 0o755);
  return dir;
}

const ISSUER = 'https://idp.test.example';
const AUDIENCE = 'tenantgate-test';

function productionEnv(extra: Record<string, string> = {}): Record<string, string> {
  const { adminUrl, runtimeUrl } = testUrls();
  // Production tokens are bound to the gateway (src/auth/tokens.ts): iss and aud are required there.
  return { NODE_ENV: 'production', DATABASE_URL: runtimeUrl, DATABASE_ADMIN_URL: adminUrl, JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, TENANTGATE_DATA_DIR: dataDir(), ...extra };
}

/** A GraphQL request whose body is sent in two parts: it is in flight between them. */
function slowRequest(url: string, bearer: string) {
  const body = JSON.stringify({ query: 'query InFlight { viewer { role } }' });
  let finish!: () => void;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    finish = () => req.end(body.slice(10));
  });
  return { response, finish: () => finish() };
}

it('in production: JSON logs, no token printed; SIGTERM lets the 20 requests in flight finish and refuses new ones', async () => {
  const gateway = startGatewayProcess(productionEnv());
  const ready = await gateway.waitFor((l) => typeof l.url === 'string' && String(l.msg).startsWith('tenantgate is serving'));
  const url = String(ready.url);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(gateway.stdout()).not.toMatch(/Bearer|eyJ/);

  const inFlight = Array.from({ length: 20 }, () => slowRequest(url, token));
  // Every request has reached the server before the signal.
  await new Promise((resolve) => setTimeout(resolve, 500));
  gateway.child.kill('SIGTERM');
  await gateway.waitFor((l) => String(l.msg).includes('SIGTERM: stopping'));
  const refused = await fetch(`${url}/healthz`).then(() => 'answered', (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message);
  expect(refused).toBe('ECONNREFUSED');
  for (const r of inFlight) r.finish();
  const answers = await Promise.all(inFlight.map((r) => r.response));
  expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
  expect(answers.every((a) => JSON.parse(a.body).data.viewer.role === 'OWNER')).toBe(true);
  expect(await gateway.exited).toEqual({ code: 0, signal: null });
  const stopping = gateway.lines.find((l) => String(l.msg).includes('SIGTERM: stopping'));
  expect(stopping).toMatchObject({ inFlight: 20, level: 30 });
  expect(gateway.lines.at(-1)).toMatchObject({ msg: 'stopped' });
});

it('a request that never ends is cut after SHUTDOWN_DRAIN_MS, and the gateway still stops', async () => {
  const gateway = startGatewayProcess(productionEnv({ SHUTDOWN_DRAIN_MS: '300' }));
  const ready = await gateway.waitFor((l) => String(l.msg).startsWith('tenantgate is serving'));
  const stuck = slowRequest(String(ready.url), token);
  const cut = stuck.response.then(() => 'answered', () => 'cut');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const signalled = Date.now();
  gateway.child.kill('SIGINT');
  expect(await gateway.exited).toEqual({ code: 0, signal: null });
  expect(await cut).toBe('cut');
  expect(Date.now() - signalled).toBeLessThan(15_000);
  expect(gateway.lines.some((l) => String(l.msg).includes('SHUTDOWN_DRAIN_MS (300 ms) passed with 1 request(s) in flight'))).toBe(true);
});

async function failedStart(env: Record<string, string>): Promise<string> {
  const gateway = startGatewayProcess(env);
  const { code } = await gateway.exited;
  expect(code).toBe(1);
  return gateway.stderr().trim();
}

it('a taken PORT is one line naming PORT', async () => {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    expect(await failedStart(productionEnv({ PORT: String(port) }))).toBe(
      `tenantgate could not start: PORT ${port} on 127.0.0.1 is taken by another program (EADDRINUSE): stop it, or set PORT to a free port.`,
    );
  } finally {
    taken.close();
  }
});

it.each([
  [{ PORT: '70000' }, /^tenantgate could not start: PORT must be an integer from 0 to 65535, got "70000"/],
  [{ JWT_SECRET: 'x' }, /^tenantgate could not start: JWT_SECRET is 1 bytes; production needs at least 32/],
  [{ DATABASE_URL: 'postgresql://127.0.0.1/tenantgate' }, /^tenantgate could not start: DATABASE_URL names no user/],
  [{ JWT_JWKS_URL: 'not a url' }, /^tenantgate could not start: JWT_JWKS_URL must be an http\(s\) URL/],
  [{ DATABASE_ADMIN_URL: 'postgresql://postgres@127.0.0.1:1/tenantgate' }, /^tenantgate could not start: DATABASE_ADMIN_URL: nothing answers at 127\.0\.0\.1:1 \(ECONNREFUSED\)/],
  // The generated client puts tenantgate's models in "tenantgate" (docs/adr/0090-own-schema.md).
  [{ DATABASE_SCHEMA: 'gateway' }, /^tenantgate could not start: TG_SCHEMA_MISMATCH: DATABASE_SCHEMA is "gateway", but the generated Prisma client puts tenantgate's models in "tenantgate"/],
])('start-up mistake %j: one line, naming the variable', async (env, message) => {
  const text = await failedStart(productionEnv(env));
  expect(text).toMatch(message);
  expect(text.split('\n')).toHaveLength(1);
});

describe('the embedded PostgreSQL', () => {
  it('a taken EMBEDDED_PG_PORT is one line naming EMBEDDED_PG_PORT', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const text = await failedStart({ TENANTGATE_DATA_DIR: dataDir(), EMBEDDED_PG_PORT: String(port) });
      expect(text).toBe(
        `tenantgate could not start: EMBEDDED_PG_PORT ${port} is taken by another program: set EMBEDDED_PG_PORT to a free port (e.g. ${port + 1}), or DATABASE_URL to use your own PostgreSQL.`,
      );
    } finally {
      taken.close();
    }
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? it : it.skip)('run as root in a 0700 directory: one line saying which directory and what to do', async () => {
    const closed = mkdtempSync(path.join(tmpdir(), 'tenantgate-i17-closed-'));
    const text = await failedStart({ TENANTGATE_DATA_DIR: path.join(closed, 'data') });
    expect(text).toBe(
      `tenantgate could not start: Running as root, the embedded PostgreSQL runs as the OS user "postgres", which cannot enter ${closed} (mode 700): ` +
        `run \`chmod o+x ${closed}\`, set TENANTGATE_DATA_DIR to a directory it can reach, or DATABASE_URL to use your own PostgreSQL.`,
    );
  });

  it('left running by a gateway killed with -9, it is restarted cleanly; npm run token finds it; SIGTERM stops both', async () => {
    const dir = dataDir();
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const pgPort = String((probe.address() as { port: number }).port);
    await new Promise((resolve) => probe.close(resolve));
    const env = { TENANTGATE_DATA_DIR: dir, EMBEDDED_PG_PORT: pgPort };

    const first = startGatewayProcess(env);
    await first.waitFor((l) => String(l.msg).startsWith('tenantgate is serving'), 180_000);
    const orphan = Number(readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(() => process.kill(orphan, 0)).not.toThrow();

    const second = startGatewayProcess(env);
    const ready = await second.waitFor((l) => String(l.msg).startsWith('tenantgate is serving'), 180_000);
    expect(second.stdout()).toContain(`An embedded PostgreSQL (pid ${orphan}) was left running by a gateway that is gone; restarting it.`);
    expect(() => process.kill(orphan, 0)).toThrow();
    const state = JSON.parse(readFileSync(path.join(dir, 'gateway.json'), 'utf8'));
    expect(state).toMatchObject({ pid: second.child.pid, url: ready.url, embeddedPort: Number(pgPort) });

    // npm run token: no EMBEDDED_PG_PORT given, the state file says where the database is.
    const printed = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--email', 'alice@acme.example'], {
      cwd: path.join(__dirname, '..'),
      env: { PATH: process.env.PATH ?? '', TENANTGATE_DATA_DIR: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const header = JSON.parse(printed) as { Authorization: string };
    expect(header.Authorization).toMatch(/^Bearer ey/);
    const viewer = await fetch(`${ready.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: header.Authorization },
      body: JSON.stringify({ query: '{ viewer { user { email } } }' }),
    }).then((r) => r.json());
    expect(viewer).toEqual({ data: { viewer: { user: { email: 'alice@acme.example' } } } });

    const postmaster = Number(readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(() => process.kill(postmaster, 0)).toThrow();
    expect(existsSync(path.join(dir, 'gateway.json'))).toBe(false);
  });
});
