import pg from 'pg';
import { ensureRuntimeRole, migrate, RUNTIME_GROUP_ROLE } from '../../src/db/migrate';
import { withSearchPath } from '../../src/db/schemas';
import { chooseTestServer, withDatabase } from './database';

/**
 * The runtime login role of a run: not superuser, owns nothing, no BYPASSRLS.
 * Named after the run's database, so that suites running at once on one server
 * never share it, and dropped with the database at the end.
 */
function runtimeRole(database: string) {
  return { user: `${database}_app`, password: `${database}_app` };
}

/**
 * One fresh database per run, migrated once. Tests keep out of each other's way
 * by creating their own organizations, not by truncating shared tables.
 */
export default async function globalSetup(): Promise<void> {
  const server = await chooseTestServer();
  const database = `tenantgate_test_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  if (server.local) await dropAbandonedRuns(admin);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const adminUrl = withDatabase(server.url, database);
  const role = runtimeRole(database);
  const runtimeUrl = withDatabase(server.url, database, role);
  await migrate(adminUrl);
  await ensureRuntimeRole(adminUrl, runtimeUrl);

  // The AWS SDK (S3 file store) warns once per process that its releases after January 2027 need
  // node 22 (package.json: node >=20.20, the pinned SDK runs on it). Known and tracked in the
  // CHANGELOG; the suite's output keeps to warnings about our code. Test workers inherit it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.TENANTGATE_TEST_SERVER_URL = server.url;
  process.env.TENANTGATE_TEST_DATABASE = database;
  // The admin URL as the gateway's admin connections use it: tenantgate's schema, then public, in
  // search_path (src/db/schemas.ts), so that the tests' own SQL names tables as the gateway's does.
  process.env.TENANTGATE_TEST_ADMIN_URL = withSearchPath(adminUrl);
  process.env.TENANTGATE_TEST_RUNTIME_URL = runtimeUrl;
  (globalThis as { __tenantgateStop?: () => Promise<void> }).__tenantgateStop = async () => {
    if (server.embedded) return server.embedded.stop();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${role.user}`);
    await dropGroupRoleIfUnused(client);
    await client.end();
  };
  console.log(`\ntenantgate tests: database ${database} on ${server.label}`);
}

/**
 * The migrations create the group role tenantgate_runtime, cluster-wide, when it
 * does not exist. The last run to finish drops it, so that a run leaves no role
 * behind: not while another run's database is on the server (it may be migrating
 * and about to grant to it), and PostgreSQL refuses (2BP01) while any database,
 * a developer's own included, still grants it anything.
 */
async function dropGroupRoleIfUnused(client: pg.Client): Promise<void> {
  const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname ~ '^tenantgate_(test|scratch|migrate|taken)_'`);
  if (rowCount) return;
  await client.query(`DROP ROLE IF EXISTS ${RUNTIME_GROUP_ROLE}`).catch((error: { code?: string }) => {
    if (error.code !== '2BP01') throw error;
  });
}

const ABANDONED_AFTER_MS = 60 * 60 * 1000;

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * A run that was killed (Ctrl-C, a CI timeout) never reaches its teardown and
 * leaves its database and role behind. On the local server only (its runs are
 * this machine's processes), the next run drops those of runs that are over an
 * hour old and whose jest process (the pid in the name) is gone.
 */
async function dropAbandonedRuns(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ name: string; kind: 'database' | 'role' }>(
    `SELECT datname AS name, 'database' AS kind FROM pg_database WHERE datname ~ '^tenantgate_test_[0-9]+_[0-9]+$'
     UNION ALL SELECT rolname, 'role' FROM pg_roles WHERE rolname ~ '^tenantgate_test_[0-9]+_[0-9]+_app$'
     ORDER BY kind`,
  );
  for (const { name, kind } of rows) {
    const [, startedAt, pid] = /^tenantgate_test_(\d+)_(\d+)/.exec(name)!.map(Number);
    if (Date.now() - startedAt < ABANDONED_AFTER_MS || running(pid)) continue;
    await admin.query(kind === 'database' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP ROLE IF EXISTS ${name}`).catch(() => undefined);
  }
}
