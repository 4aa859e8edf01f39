import { HeldTransaction } from '../src/db/request-transaction';
import { createTenantClient, scopeStatement } from '../src/db/tenant';
import { startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { ProjectPageWithOwners } from './operations';
import { ViewerRoleQuery } from './usage.operations';

/**
 * The held request transaction (src/db/request-transaction.ts): a query's access
 * check opens `BEGIN READ ONLY` with the scope set, and Prisma runs the query's
 * reads in that transaction. It must end exactly once, on every path, and never
 * serve another request.
 */

const POOL_SIZE = 3;
const APPLICATION_NAME = 'tenantgate-held-transaction-test';
let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

beforeAll(async () => {
  h = await startHarness({ poolSize: POOL_SIZE, applicationName: APPLICATION_NAME });
  acme = await h.createOrganization('Acme');
  globex = await h.createOrganization('Globex');
  await h.system.prisma.project.createMany({
    data: [
      ...Array.from({ length: 3 }, (_, i) => ({ organizationId: acme.id, ownerId: acme.owner.id, name: `acme-${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ organizationId: globex.id, ownerId: globex.owner.id, name: `globex-${i}` })),
    ],
  });
});
afterAll(() => h.close());

/** A transaction opened the way src/context.ts opens one for a query. */
async function hold(org: TestOrganization) {
  const client = await h.db.pool.connect();
  await client.query(`BEGIN READ ONLY; ${scopeStatement({ organizationId: org.id, userId: org.owner.id, role: 'OWNER' })}`);
  return { client, held: new HeldTransaction(client) };
}

/** Every pooled connection is back, and none of the runtime role's sessions is left inside a transaction. */
async function expectNothingHeld() {
  expect(h.db.pool.waitingCount).toBe(0);
  expect(h.db.pool.idleCount).toBe(h.db.pool.totalCount);
  const sessions = await h.system.prisma.$queryRaw<{ state: string }[]>`
    SELECT state FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME}`;
  expect(sessions.length).toBeGreaterThan(0);
  expect(sessions.filter((s) => s.state !== 'idle')).toEqual([]);
}

describe('the tenant client on a held transaction', () => {
  it('runs every read in the held transaction, on its connection, scoped, and then commits it', async () => {
    const { client, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }, { held });
    const [names, [{ pid }]] = await tenant.$transactionOnDemand(async () =>
      Promise.all([
        tenant.project.findMany({ orderBy: { name: 'asc' } }).then((rows) => rows.map((p) => p.name)),
        tenant.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`,
      ]),
    );
    expect(names).toEqual(['acme-0', 'acme-1', 'acme-2']);
    expect(pid).toBe((client as unknown as { processID: number }).processID);
    expect(held.state).toBe('ended');
    await expectNothingHeld();
  });

  it('is read only: a write in it fails and is rolled back, and the connection goes back', async () => {
    const { held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }, { held });
    await expect(
      tenant.$transactionOnDemand(() => tenant.project.create({ data: { organizationId: acme.id, ownerId: acme.owner.id, name: 'written' } })),
    ).rejects.toThrow(/read-only transaction/);
    expect(held.state).toBe('ended');
    expect(await h.system.prisma.project.count({ where: { name: 'written' } })).toBe(0);
    await expectNothingHeld();
  });

  it('commits a held transaction that nothing read from, and rolls one back when the work throws', async () => {
    const unused = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held: unused.held });
    expect(await tenant.$transactionOnDemand(async () => 'no reads')).toBe('no reads');
    expect(unused.held.state).toBe('ended');

    const failing = await hold(acme);
    const other = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held: failing.held });
    await expect(
      other.$transactionOnDemand(async () => {
        await other.project.findMany();
        throw new Error('resolver failed');
      }),
    ).rejects.toThrow('resolver failed');
    expect(failing.held.state).toBe('ended');
    await expectNothingHeld();
  });

  it('is handed over once: a second transaction of the same client is a new one, scoped by the client', async () => {
    const { held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }, { held });
    await tenant.$transactionOnDemand(() => tenant.project.count());
    expect(held.state).toBe('ended');
    // The held transaction is gone; this one opens (and scopes) its own.
    expect(await tenant.$transactionOnDemand(() => tenant.project.count())).toBe(3);
    await expectNothingHeld();
  });
});

describe('through the gateway', () => {
  it('200 concurrent query requests alternating between two organizations over a pool of 3 each see their own rows only', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const org = i % 2 === 0 ? acme : globex;
        return h.execute(ProjectPageWithOwners, { token: org.member.token, variables: { first: 10 } }).then((response) => ({ org, response }));
      }),
    );
    for (const { org, response } of results) {
      expect(response.errors).toBeUndefined();
      const names = response.data!.projects.edges.map((e) => e.node.name);
      expect(names).toHaveLength(org === acme ? 3 : 2);
      expect(names.every((name) => name.startsWith(org === acme ? 'acme-' : 'globex-'))).toBe(true);
      expect(response.data!.projects.edges.every((e) => e.node.owner.email === org.owner.email)).toBe(true);
    }
    await expectNothingHeld();
  });

  it('returns the connection of every refused, failed or empty query', async () => {
    const outsider = await h.createOrganization('Outsider');
    const notMember = await h.token(outsider.owner.id, acme.id);
    const refused = await Promise.all(Array.from({ length: 2 * POOL_SIZE }, () => h.execute(ProjectPageWithOwners, { token: notMember })));
    expect(refused.every((r) => r.status === 403)).toBe(true);
    // Fails inside execution: a malformed id.
    const failed = await h.execute('query { project(id: "not-an-id") { id } }', { token: acme.member.token });
    expect(failed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // Reads nothing: answered from the context.
    const empty = await h.execute(ViewerRoleQuery, { token: acme.member.token });
    expect(empty.errors).toBeUndefined();
    await expectNothingHeld();
  });
});
