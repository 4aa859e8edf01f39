import pg from 'pg';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { withSearchPath } from '../src/db/schemas';
import { withDatabase } from './setup/database';
import { startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres';

/**
 * PostgreSQL restarted under load (issue 13, item 9): a PostgreSQL of the
 * test's own (never the shared server), the gateway in this process with
 * requests from two organizations running, and the server stopped for a second
 * and a half and started again. Meanwhile every failed request is a clean 503
 * `DATABASE_UNAVAILABLE` with Retry-After, `/readyz` answers 503, no write is
 * half done and no response holds another organization's rows; after the
 * start, the gateway serves again by itself within seconds.
 */
const describeWithPostgres = privatePostgresAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

const CreateProject = 'mutation($name: String!) { createProject(input: { name: $name }) { project { id name } } }';
const Projects = '{ projects(first: 100) { edges { node { name } } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithPostgres('PostgreSQL restarted under load', () => {
  let server: PrivatePostgres;
  let h: Harness;
  let orgs: TestOrganization[];

  beforeAll(async () => {
    server = await startPrivatePostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE tenantgate');
    await admin.end();
    const adminUrl = withDatabase(server.url, 'tenantgate');
    const runtimeUrl = withDatabase(server.url, 'tenantgate', { user: 'tenantgate_app', password: 'restart-test' });
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    // This file's harness on this server (Jest gives each test file its own copy of process.env).
    process.env.TENANTGATE_TEST_ADMIN_URL = withSearchPath(adminUrl);
    process.env.TENANTGATE_TEST_RUNTIME_URL = runtimeUrl;
    h = await startHarness();
    orgs = [await h.createOrganization('Restart A'), await h.createOrganization('Restart B')];
    // Unlimited projects: the load creates a few hundred.
    await h.system.prisma.subscription.updateMany({ where: { organizationId: { in: orgs.map((o) => o.id) } }, data: { plan: 'ENTERPRISE' } });
  });
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await server?.destroy();
  });

  it('fails requests cleanly while it is down, says so on /readyz, and recovers by itself', async () => {
    type Outcome = { message?: string; at: number; kind: 'create' | 'list'; org: number; name?: string; status: number; code?: string; retryAfter?: string | null; names?: string[] };
    const outcomes: Outcome[] = [];
    const started = performance.now();
    let running = true;
    let sequence = 0;
    async function worker(index: number) {
      const org = index % 2;
      const token = orgs[org].owner.token;
      while (running) {
        const create = sequence % 3 === 0;
        const name = `org${org}-${(sequence += 1)}`;
        const response = await h.request(create ? CreateProject : Projects, { token, variables: create ? { name } : undefined });
        const body = (await response.json()) as { data?: { projects?: { edges: { node: { name: string } }[] } }; errors?: { extensions?: { code?: string } }[] };
        outcomes.push({
          at: performance.now() - started,
          kind: create ? 'create' : 'list',
          org,
          name: create ? name : undefined,
          status: response.status,
          code: body.errors?.[0]?.extensions?.code, message: (body.errors?.[0] as { message?: string } | undefined)?.message,
          retryAfter: response.headers.get('retry-after'),
          names: body.data?.projects?.edges.map((e) => e.node.name),
        });
        if (response.status !== 200) await sleep(20);
      }
    }
    const readiness: { at: number; status: number }[] = [];
    async function probe() {
      while (running) {
        const response = await h.gateway.fetch('http://tenantgate.test/readyz');
        readiness.push({ at: performance.now() - started, status: response.status });
        await response.text();
        await sleep(100);
      }
    }
    const load = [...Array.from({ length: 6 }, (_, i) => worker(i)), probe()];

    await sleep(1_000);
    const stopAt = performance.now() - started;
    await server.stop();
    await sleep(1_500);
    await server.start();
    const startAt = performance.now() - started;
    await sleep(4_000);
    running = false;
    await Promise.all(load);

    const failed = outcomes.filter((o) => o.status !== 200 || o.code);
    // The outage was seen, and every failure in it was the clean, retryable one.
    expect(failed.length).toBeGreaterThan(0);
    expect([...new Set(failed.map((o) => `${o.status} ${o.code} Retry-After: ${o.retryAfter}`))]).toEqual(['503 DATABASE_UNAVAILABLE Retry-After: 1']);
    expect(Math.min(...failed.map((o) => o.at))).toBeGreaterThanOrEqual(stopAt - 50);
    // Recovered by itself: nothing failed later than 5 s after the start, and it served plenty after.
    const lastFailure = Math.max(...failed.map((o) => o.at));
    expect(lastFailure).toBeLessThan(startAt + 5_000);
    expect(outcomes.filter((o) => o.at > lastFailure).length).toBeGreaterThan(20);
    // /readyz said so: 503 while it was down, 200 at the end.
    expect(readiness.some((r) => r.status === 503 && r.at > stopAt && r.at < startAt)).toBe(true);
    expect(readiness.at(-1)!.status).toBe(200);
    console.log(
      `PostgreSQL restart: down ${Math.round(startAt - stopAt)} ms; ${outcomes.length} requests, ${failed.length} answered 503 DATABASE_UNAVAILABLE; ` +
        `last failure ${Math.round(lastFailure - startAt)} ms after the start`,
    );

    // No other organization's rows in any answer.
    for (const list of outcomes.filter((o) => o.kind === 'list' && o.status === 200)) {
      expect(list.names!.every((name) => name.startsWith(`org${list.org}-`))).toBe(true);
    }
    // No partial writes: every create that answered is there, in its organization; none that failed is.
    const rows = await h.system.prisma.project.findMany({ where: { organizationId: { in: orgs.map((o) => o.id) } }, select: { name: true, organizationId: true } });
    const stored = new Map(rows.map((row) => [row.name, row.organizationId]));
    const creates = outcomes.filter((o) => o.kind === 'create');
    for (const create of creates.filter((o) => o.status === 200)) expect(stored.get(create.name!)).toBe(orgs[create.org].id);
    expect(creates.filter((o) => o.status !== 200 && stored.has(o.name!)).map((o) => o.name)).toEqual([]);
    expect(stored.size).toBe(creates.filter((o) => o.status === 200).length);
  });
});
