import { RequestCache } from '@pothos/plugin-scope-auth';
import { OperationTypeNode } from 'graphql';
import { RequestScope } from '../src/db/request-scope';
import { Prisma } from '../src/generated/prisma/client';
import { builder } from '../src/builder';
import { createTenantClient, scopeStatement } from '../src/db/tenant';
import { type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
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
/** Sees every statement of the runtime pool while set. */
let listener: ((sql: string) => void) | null = null;

twoOrganizations({ poolSize: POOL_SIZE, applicationName: APPLICATION_NAME, onStatement: (sql) => listener?.(sql) }, (f) => ({ h, acme, globex } = f));
beforeAll(async () => {
  await h.system.prisma.project.createMany({
    data: [
      ...Array.from({ length: 3 }, (_, i) => ({ organizationId: acme.id, ownerId: acme.owner.id, name: `acme-${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ organizationId: globex.id, ownerId: globex.owner.id, name: `globex-${i}` })),
    ],
  });
});

/** A transaction opened the way the access check opens one for a query (src/auth/access.ts), and its scope. */
async function hold(org: TestOrganization) {
  const scope = new RequestScope(h.db, OperationTypeNode.QUERY);
  const [{ pid }] = await scope.open([scopeStatement({ organizationId: org.id, userId: org.owner.id, role: 'OWNER' })], () => 'SELECT pg_backend_pid() AS pid');
  return { scope, pid: pid as number, held: scope.held! };
}

/**
 * Every pooled connection is back, and none of the runtime role's sessions is
 * left inside a transaction. A query's COMMIT may still be on its way when its
 * response arrives (commitInBackground), so this waits a moment for it.
 */
async function expectNothingHeld() {
  const sessionsInUse = async () =>
    (
      await h.system.prisma.$queryRaw<{ state: string }[]>`
        SELECT state FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME}`
    ).filter((s) => s.state !== 'idle');
  for (let waited = 0; waited < 2_000; waited += 20) {
    if (h.db.pool.idleCount === h.db.pool.totalCount && (await sessionsInUse()).length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(h.db.pool.waitingCount).toBe(0);
  expect(h.db.pool.idleCount).toBe(h.db.pool.totalCount);
  expect(h.db.pool.totalCount).toBeGreaterThan(0);
  expect(await sessionsInUse()).toEqual([]);
}

describe('the tenant client on a held transaction', () => {
  it('runs every read in the held transaction, on its connection, scoped, and then commits it', async () => {
    const { scope, pid: backend, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }, { held });
    const [names, [{ pid }]] = await scope.execute(async () =>
      Promise.all([
        tenant.project.findMany({ orderBy: { name: 'asc' } }).then((rows) => rows.map((p) => p.name)),
        tenant.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`,
      ]),
    );
    expect(names).toEqual(['acme-0', 'acme-1', 'acme-2']);
    expect(pid).toBe(backend);
    await held.end('COMMIT');
    expect(held.state).toBe('ended');
    await expectNothingHeld();
  });

  it('resolves once COMMIT is sent, and gives the connection back without waiting for its answer', async () => {
    const statements: string[] = [];
    const { scope, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held });
    listener = (sql) => statements.push(sql);
    try {
      const idle = h.db.pool.idleCount;
      expect(await scope.execute(() => tenant.project.count())).toBe(3);
      expect(statements.at(-1)).toBe('COMMIT');
      // The pool pipelines: the next user's statements queue behind COMMIT on the same socket.
      expect(held.state).toBe('ended');
      expect(h.db.pool.idleCount).toBe(idle + 1);
      await held.end('COMMIT');
      expect(held.state).toBe('ended');
      // The next user of that connection is in a transaction of its own, with no scope left over.
      const client = await h.db.pool.connect();
      try {
        const { rows } = await client.query<{ org: string; tx: string }>("SELECT coalesce(current_setting('app.current_org_id', true), '') AS org, now()::text AS tx");
        expect(rows[0].org).toBe('');
      } finally {
        client.release();
      }
    } finally {
      listener = null;
    }
    await expectNothingHeld();
  });

  it('is read only: a write in it fails and is rolled back, and the connection goes back', async () => {
    const { scope, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }, { held });
    await expect(
      scope.execute(() => tenant.project.create({ data: { organizationId: acme.id, ownerId: acme.owner.id, name: 'written' } })),
    ).rejects.toThrow(/read-only transaction/);
    expect(held.state).toBe('ended');
    expect(await h.system.prisma.project.count({ where: { name: 'written' } })).toBe(0);
    await expectNothingHeld();
  });

  it('commits a held transaction that nothing read from, and rolls one back when the work throws', async () => {
    const unused = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held: unused.held });
    expect(await unused.scope.execute(async () => 'no reads')).toBe('no reads');
    await unused.held.end('COMMIT');
    expect(unused.held.state).toBe('ended');

    const failing = await hold(acme);
    const other = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held: failing.held });
    await expect(
      failing.scope.execute(async () => {
        await other.project.findMany();
        throw new Error('resolver failed');
      }),
    ).rejects.toThrow('resolver failed');
    expect(failing.held.state).toBe('ended');
    await expectNothingHeld();
  });

  it('ends once: afterwards its client refuses every operation, and the connection serves the next request', async () => {
    const first = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held: first.held });
    await first.scope.execute(() => tenant.project.count());
    await first.held.end('COMMIT');
    expect(first.held.state).toBe('ended');
    await expect(tenant.project.count()).rejects.toThrow(/transaction has ended/);
    await expect(tenant.$transactionOnDemand(() => tenant.project.count())).rejects.toThrow(/transaction has ended/);
    expect(() => first.held.prisma).toThrow(/transaction has ended/);

    // The bound PrismaClient is reused, on whichever connection the next held transaction has.
    const second = await hold(globex);
    const other = createTenantClient(h.db.prisma, { organizationId: globex.id }, { held: second.held });
    const [count, [{ pid }]] = await second.scope.execute(() =>
      Promise.all([other.project.count(), other.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`]),
    );
    expect(count).toBe(2);
    expect(pid).toBe(second.pid);
    await expectNothingHeld();
  });

  it('waits for an operation still in flight before it commits, so that nothing runs on the connection after it is returned', async () => {
    const { scope, pid: backend, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held });
    let late: Promise<{ n: number }[]> | undefined;
    await scope.execute(async () => {
      // Started (a Prisma operation starts when then() is called), not awaited: the work returns while the statement runs.
      late = tenant.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM projects, pg_sleep(0.2)`.then((rows) => rows);
    });
    await held.end('COMMIT');
    expect(held.state).toBe('ended');
    // It ran in the held transaction, scoped, before the COMMIT.
    await expect(late).resolves.toEqual([{ n: 3 }]);
    
    await expectNothingHeld();
  });

  it('refuses an operation made while the transaction was held but first awaited after it ended: it runs nowhere', async () => {
    const statements: string[] = [];
    const { scope, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held });
    let made: PromiseLike<number> | undefined;
    await scope.execute(async () => {
      // A Prisma operation is lazy: made here, it has not started.
      made = tenant.project.count();
    });
    await held.end('COMMIT');
    expect(held.state).toBe('ended');
    listener = (sql) => statements.push(sql);
    try {
      await expect(made).rejects.toThrow(/transaction has ended/);
    } finally {
      listener = null;
    }
    expect(statements).toEqual([]);
    await expectNothingHeld();
  });

  it('offers the models, raw SQL and transactions, and nothing that would escape the held transaction', async () => {
    const { scope, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held });
    const loose = tenant as unknown as Record<string, unknown> & { project: Record<string, unknown> };
    const models = Object.values(Prisma.ModelName).map((name) => `${name[0].toLowerCase()}${name.slice(1)}`);
    expect(models.filter((key) => typeof Reflect.get(Reflect.get(tenant, key) ?? {}, 'findMany') === 'function')).toEqual(models);
    expect(loose.$extends).toBeUndefined();
    expect(loose.$disconnect).toBeUndefined();
    expect(loose._request).toBeUndefined();
    expect(loose.project.$parent).toBeUndefined();
    expect(loose.then).toBeUndefined();
    // It can be returned from an async function (nothing mistakes it for a promise).
    expect(await (async () => tenant)()).toBe(tenant);
    await scope.execute(async () => undefined);
    await expectNothingHeld();
  });

  it("turns Prisma's own transactions on the bound client into savepoints of the held transaction", async () => {
    const { scope, held } = await hold(acme);
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id }, { held });
    const statements: string[] = [];
    const [afterFailure, afterSuccess] = await scope.execute(async () => {
      const bound = held.prisma;
      listener = (sql) => statements.push(sql);
      try {
        // A failing statement inside Prisma's transaction rolls back to its savepoint only...
        await expect(bound.$transaction([bound.$queryRaw`SELECT 1`, bound.$queryRaw`SELECT 1/0`])).rejects.toThrow(/division by zero/);
        const a = await tenant.project.count();
        await bound.$transaction([bound.project.count(), bound.project.count()]);
        const b = await tenant.project.count();
        return [a, b];
      } finally {
        listener = null;
      }
    });
    // ...and the held transaction goes on, still scoped.
    expect([afterFailure, afterSuccess]).toEqual([3, 3]);
    expect(statements.filter((sql) => /SAVEPOINT/.test(sql))).toEqual([
      expect.stringMatching(/^SAVEPOINT tg_batch_\d+$/),
      expect.stringMatching(/^ROLLBACK TO SAVEPOINT tg_batch_\d+$/),
      expect.stringMatching(/^SAVEPOINT tg_batch_\d+$/),
      expect.stringMatching(/^RELEASE SAVEPOINT tg_batch_\d+$/),
    ]);
    expect(statements).not.toContain('COMMIT');
    expect(statements).not.toContain('BEGIN');
    await expectNothingHeld();
  });
});

describe('through the gateway', () => {
  it("lets go of scope-auth's cache of a request once its operation has run (src/plugins/use-request-cache-release.ts)", async () => {
    const fromContext = jest.spyOn(RequestCache, 'fromContext');
    let context: object;
    let during: unknown;
    try {
      const response = await h.execute(ViewerRoleQuery, { token: acme.owner.token });
      expect(response.errors).toBeUndefined();
      expect(fromContext).toHaveBeenCalled();
      context = fromContext.mock.calls[0][0] as object;
      during = fromContext.mock.results[0].value;
    } finally {
      fromContext.mockRestore();
    }
    // Cleared: the next lookup for that context makes a new cache.
    expect(RequestCache.fromContext(context as never, builder as never)).not.toBe(during);
    RequestCache.clearForContext(context as never);
    await expectNothingHeld();
  });

  it("runs a query's reads on generic plans: the page is never planned again per execution (src/context.ts, GENERIC_PLANS)", async () => {
    // Every pooled connection at once, so that each is read exactly once.
    const plansOfThePage = async () => {
      const connections = await Promise.all(Array.from({ length: POOL_SIZE }, () => h.db.pool.connect()));
      try {
        let generic = 0;
        let custom = 0;
        for (const connection of connections) {
          const { rows } = await connection.query<{ generic: string; custom: string }>(
            `SELECT coalesce(sum(generic_plans), 0) AS generic, coalesce(sum(custom_plans), 0) AS custom
               FROM pg_prepared_statements WHERE statement LIKE 'SELECT %FROM "tenantgate"."projects"%LEFT JOIN LATERAL%'`,
          );
          generic += Number(rows[0].generic);
          custom += Number(rows[0].custom);
        }
        return { generic, custom };
      } finally {
        for (const connection of connections) connection.release();
      }
    };
    // PostgreSQL's default (auto) plans the first five executions of a statement
    // custom anyway; more than five show whether it ever switches.
    const requests = 8;
    const before = await plansOfThePage();
    for (let i = 0; i < requests; i += 1) {
      const response = await h.execute(ProjectPageWithOwners, { token: acme.member.token, variables: { first: 2 } });
      expect(response.errors).toBeUndefined();
    }
    await expectNothingHeld();
    const after = await plansOfThePage();
    expect(after.custom - before.custom).toBe(0);
    expect(after.generic - before.generic).toBe(requests);
  });

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
      expect(response.data!.projects.edges.every((e) => e.node.owner?.email === org.owner.email)).toBe(true);
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
