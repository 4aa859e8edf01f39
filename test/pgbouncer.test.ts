import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase, type Database } from '../src/db/client';
import { createGateway, type Gateway } from '../src/yoga';
import { startHarness, TEST_SECRET, type Harness, type TestOrganization } from './helpers/harness';

/**
 * Behind PgBouncer in transaction mode (issue 13, faults): Debian's pgbouncer,
 * started here on a free port in front of the suite's database. 1,000
 * concurrent requests alternating between two organizations each see their own
 * rows only: the request's scope (SET LOCAL in its transaction) travels with the
 * transaction, whichever server connection PgBouncer gives it. PgBouncer 1.18
 * (Debian 12) keeps no prepared statements across server connections, so the
 * gateway runs with named statements off (DATABASE_NAMED_STATEMENTS=false), and
 * the timeouts, startup parameters PgBouncer refuses, are ignored by it.
 */
const binary = spawnSync('sh', ['-c', 'command -v pgbouncer']).stdout?.toString().trim();
const describeWithPgBouncer = binary ? describe : describe.skip;
if (!binary) console.warn('test/pgbouncer.test.ts skipped: no pgbouncer binary (apt-get install -y pgbouncer)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describeWithPgBouncer('behind PgBouncer in transaction mode', () => {
  let h: Harness;
  let bouncer: ChildProcess;
  let db: Database;
  let gateway: Gateway;
  let acme: TestOrganization;
  let globex: TestOrganization;

  beforeAll(async () => {
    h = await startHarness();
    const runtime = new URL(h.runtimeUrl);
    const port = await freePort();
    // PgBouncer refuses to run as root: it runs as postgres, so its directory must be theirs to read.
    const dir = mkdtempSync(path.join('/tmp', 'tenantgate-pgbouncer-'));
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'users.txt'), `"${decodeURIComponent(runtime.username)}" "${decodeURIComponent(runtime.password)}"\n`);
    writeFileSync(
      path.join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${runtime.hostname} port=${runtime.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = plain',
        `auth_file = ${path.join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        'default_pool_size = 4',
        'max_client_conn = 2000',
        'ignore_startup_parameters = extra_float_digits,statement_timeout,idle_in_transaction_session_timeout',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(dir, 'users.txt'), 0o644);
    bouncer = spawn(binary!, ['-u', 'postgres', path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const viaBouncer = new URL(h.runtimeUrl);
    viaBouncer.port = String(port);
    for (let i = 0; i < 100; i += 1) {
      const probe = createDatabase({ url: viaBouncer.toString(), max: 1 });
      const ok = await probe.pool.query('SELECT 1').then(() => true, () => false);
      await probe.close();
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    db = createDatabase({ url: viaBouncer.toString(), max: 20, namedStatements: false, statementTimeoutMs: 10_000 });
    gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false });
    [acme, globex] = [await h.createOrganization('Acme'), await h.createOrganization('Globex')];
    for (const [org, names] of [[acme, ['acme-1', 'acme-2', 'acme-3']], [globex, ['globex-1', 'globex-2']]] as const) {
      await h.system.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL app.current_org_id = '${org.id}'`);
        await tx.project.createMany({ data: names.map((name) => ({ organizationId: org.id, name, ownerId: org.owner.id })) });
      });
    }
  });
  afterAll(async () => {
    await gateway?.dispose();
    await db?.close();
    bouncer?.kill('SIGTERM');
    await h?.close();
  });

  it('serves 1,000 concurrent requests alternating between two organizations, each its own rows only', async () => {
    const ask = (org: TestOrganization) =>
      Promise.resolve(gateway
        .fetch('http://tenantgate.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${org.member.token}` },
          body: JSON.stringify({ query: '{ viewer { organization { slug } } projects(first: 20) { edges { node { name } } } }' }),
        }))
        .then(async (response) => ({ org, status: response.status, body: (await response.json()) as { errors?: unknown; data: { viewer: { organization: { slug: string } }; projects: { edges: { node: { name: string } }[] } } } }));
    const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => ask(i % 2 ? globex : acme)));
    for (const { org, status, body } of results) {
      expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
      expect(body.data.viewer.organization.slug).toBe(org.slug);
      expect(body.data.projects.edges.map((e) => e.node.name).sort()).toEqual(org === acme ? ['acme-1', 'acme-2', 'acme-3'] : ['globex-1', 'globex-2']);
    }
  });

  it('keeps a mutation and the next query of another organization apart', async () => {
    const create = await gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.owner.token}` },
      body: JSON.stringify({ query: 'mutation { createProject(input: { name: "acme-4" }) { project { name } } }' }),
    });
    expect(((await create.json()) as { errors?: unknown }).errors).toBeUndefined();
    const other = await gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${globex.member.token}` },
      body: JSON.stringify({ query: '{ projects(first: 20) { edges { node { name } } } }' }),
    });
    const names = ((await other.json()) as { data: { projects: { edges: { node: { name: string } }[] } } }).data.projects.edges.map((e: { node: { name: string } }) => e.node.name);
    expect(names.sort()).toEqual(['globex-1', 'globex-2']);
  });
});
