import http from 'node:http';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { startHarness, TEST_SECRET, testUrls, type Harness, type TestOrganization } from './helpers/harness';

const run = promisify(execFile);

/**
 * The request's transaction has one owner (src/db/request-scope.ts) and ends on
 * every path. Each test ends by showing the pool whole and no runtime session
 * inside a transaction (pg_stat_activity).
 */

const APPLICATION_NAME = `tenantgate-request-scope-${process.pid}`;
let h: Harness;
let acme: TestOrganization;

beforeAll(async () => {
  h = await startHarness({ poolSize: 2, applicationName: APPLICATION_NAME });
  acme = await h.createOrganization('Acme');
  await h.system.prisma.project.createMany({
    data: Array.from({ length: 12 }, (_, i) => ({ organizationId: acme.id, ownerId: acme.owner.id, name: `acme-${i}` })),
  });
});
afterAll(() => h.close());

async function sessionsInTransaction() {
  return (
    await h.system.prisma.$queryRaw<{ state: string }[]>`SELECT state FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME}`
  ).filter((s) => s.state !== 'idle');
}

/** The pool is whole and no session is left in a transaction (a background COMMIT may still be on its way: waits up to 2 s). */
async function expectNothingHeld() {
  // A refused request's denial is written after its response, on a connection of the pool (docs/adr/0061-access-denials.md).
  await h.denials.settled();
  for (let waited = 0; waited < 2_000; waited += 20) {
    if (h.db.pool.idleCount === h.db.pool.totalCount && (await sessionsInTransaction()).length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(h.db.pool.idleCount).toBe(h.db.pool.totalCount);
  expect(await sessionsInTransaction()).toEqual([]);
}

it('runs sibling root fields on the one held connection one statement at a time: no process warning', async () => {
  // In a process of its own: Node prints warnings (pg's DeprecationWarning among them) on its stderr,
  // which the `process` of jest's sandbox never sees.
  const { stdout, stderr } = await run(process.execPath, [
    '--import',
    'tsx',
    path.join(__dirname, 'fixtures', 'sibling-fields.ts'),
    testUrls().runtimeUrl,
    TEST_SECRET,
    acme.member.token,
  ]);
  expect(stderr).toBe('');
  expect(JSON.parse(stdout)).toEqual(Array.from({ length: 6 }, () => ({ errors: 0, page: 5 })));
  await expectNothingHeld();
});

it('ends the transaction of a successful query, of one with a GraphQL error, and of a refused one', async () => {
  const ok = await h.execute('query { projects(first: 2) { edges { node { name } } } }', { token: acme.member.token });
  expect(ok.errors).toBeUndefined();
  const failed = await h.execute('query { project(id: "not-an-id") { id } }', { token: acme.member.token });
  expect(failed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  const outsider = await h.createOrganization('Outsider');
  const refused = await h.execute('query { viewer { role } }', { token: await h.token(outsider.owner.id, acme.id) });
  expect(refused.status).toBe(403);
  await expectNothingHeld();
});

it('ends the transaction of a query whose client went away while it waited', async () => {
  const server = http.createServer(h.gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Another session holds the projects table: the query's page read waits for it.
  let unlock!: () => void;
  const locked = new Promise<void>((resolve) => (unlock = resolve));
  let isLocked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (isLocked = resolve));
  const locker = h.system.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe('LOCK TABLE projects IN ACCESS EXCLUSIVE MODE');
      isLocked();
      await locked;
    },
    { timeout: 20_000 },
  );
  await lockTaken;
  try {
    const body = JSON.stringify({ query: 'query { projects(first: 2) { edges { node { name } } } }' });
    const request = http.request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.member.token}`, 'content-length': Buffer.byteLength(body) },
    });
    request.on('error', () => undefined);
    request.end(body);
    // Wait until the query's read is blocked on the lock, then hang up.
    for (let waited = 0; waited < 10_000; waited += 20) {
      const waiting = await h.system.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME} AND wait_event_type = 'Lock'`;
      if (waiting[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await sessionsInTransaction()).not.toEqual([]);
    request.destroy();
  } finally {
    unlock();
    await locker;
  }
  await expectNothingHeld();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('cancels the statement a query is running when its client goes away, and frees its connection at once', async () => {
  const server = http.createServer(h.gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // The slow statement: the query's read waits for a lock this test holds for up to 20 s (no production path is involved).
  let unlock!: () => void;
  const locked = new Promise<void>((resolve) => (unlock = resolve));
  let isLocked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (isLocked = resolve));
  const locker = h.system.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe('LOCK TABLE projects IN ACCESS EXCLUSIVE MODE');
      isLocked();
      await locked;
    },
    { timeout: 30_000 },
  );
  await lockTaken;
  try {
    const body = JSON.stringify({ query: 'query { projects(first: 2) { edges { node { name } } } }' });
    const request = http.request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.member.token}`, 'content-length': Buffer.byteLength(body) },
    });
    request.on('error', () => undefined);
    request.end(body);
    const waitingForLock = async () =>
      (
        await h.system.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME} AND wait_event_type = 'Lock'`
      )[0].n;
    for (let waited = 0; waited < 10_000 && (await waitingForLock()) === 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await waitingForLock()).toBe(1);

    const aborted = performance.now();
    request.destroy();
    // With the lock still held: the statement is cancelled, the transaction rolled back and the connection idle in the pool.
    let freedAfter = Infinity;
    for (let waited = 0; waited < 3_000; waited += 20) {
      if ((await waitingForLock()) === 0 && (await sessionsInTransaction()).length === 0 && h.db.pool.idleCount === h.db.pool.totalCount) {
        freedAfter = performance.now() - aborted;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(freedAfter).toBeLessThan(2_000);
    console.log(`client gone: its statement cancelled and its connection idle in the pool ${Math.round(freedAfter)} ms later`);
  } finally {
    unlock();
    await locker;
  }
  await expectNothingHeld();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
