import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ensureRuntimeRole, migrate, NAME_TAKEN, readMigrations } from '../src/db/migrate';
import { assertRuntimeSearchPath } from '../src/db/runtime-role';
import { assertBuiltSchema, SCHEMA_MISMATCH } from '../src/db/schemas';
import { assertTenancy } from '../src/tenancy/check';
import { startHarness, type Harness } from './helpers/harness';
import { withDatabase } from './setup/database';

/**
 * tenantgate's own tables in a schema of their own (issue 12, item 7;
 * docs/adr/0090-own-schema.md), on databases made here: a fresh one that
 * already has the application's `users` and `organizations`, one migrated with
 * the previous layout (every table in public) and seeded, and ones where a name
 * tenantgate needs is taken. The URLs are the bare ones a user would give (no
 * search_path): the runner, the admin connections and the runtime role set it.
 */

/** The migration that moves the previous layout. */
const MOVE = '20261205190100_tenantgate_schema';

/** tenantgate's own tables: in its schema once migrated. */
const OWN_TABLES = [
  'access_versions', 'add_ons', 'audit_log', 'audit_retention', 'deliveries', 'departments', 'events', 'files', 'invitations',
  'invoice_line_items', 'invoices', 'memberships', 'organization_domains', 'organization_secrets', 'organizations', 'plan_limits',
  'plan_operation_limits', 'plan_prices', 'plan_upload_limits', 'platform_audit_log', 'platform_operators', 'platform_security_log',
  'projects', 'quota_overrides', 'security_alert_windows', 'share_grants', 'storage_usage', 'subscription_history', 'subscriptions',
  'templates', 'usage_active_users', 'usage_daily', 'users', 'webhook_endpoints',
];

const serverUrl = () => process.env.TENANTGATE_TEST_SERVER_URL!;
let server: pg.Client;
const made: string[] = [];

beforeAll(async () => {
  server = new pg.Client({ connectionString: serverUrl() });
  await server.connect();
});
afterAll(async () => {
  for (const name of made) await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await server.end();
});

/** A database of this test, the run's runtime role's URL on it, and an admin client. */
async function database(): Promise<{ adminUrl: string; runtimeUrl: string; admin: pg.Client }> {
  const name = `tenantgate_migrate_own_${randomUUID().slice(0, 8)}`;
  await server.query(`CREATE DATABASE ${name}`);
  made.push(name);
  const runtime = new URL(process.env.TENANTGATE_TEST_RUNTIME_URL!);
  const adminUrl = withDatabase(serverUrl(), name);
  const runtimeUrl = withDatabase(serverUrl(), name, { user: decodeURIComponent(runtime.username), password: decodeURIComponent(runtime.password) });
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  return { adminUrl, runtimeUrl, admin };
}

/** Where each table is: `schema.table`, every schema but PostgreSQL's own and the job queue's. */
async function tablesOf(admin: pg.Client): Promise<string[]> {
  const { rows } = await admin.query<{ t: string }>(
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'graphile_worker') AND n.nspname !~ '^pg_toast'
`,
  );
  // Sorted here, not by the database's collation (which would ignore the underscores).
  return rows.map((r) => r.t).sort();
}

/** Everything a database holds outside PostgreSQL's own schemas, to show that a refusal changed nothing. */
async function everything(admin: pg.Client): Promise<string[]> {
  const { rows } = await admin.query<{ o: string }>(
    `SELECT 'schema ' || nspname AS o FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
     UNION ALL SELECT 'relation ' || c.oid::regclass::text || ' ' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
     UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
     UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
     ORDER BY 1`,
  );
  return rows.map((r) => r.o);
}

/** Rows and a checksum of each table, by its name (the table found in whichever schema it is). */
async function contents(admin: pg.Client, tables: Record<string, string>): Promise<Record<string, { rows: number; md5: string }>> {
  const result: Record<string, { rows: number; md5: string }> = {};
  for (const [name, schema] of Object.entries(tables)) {
    const { rows } = await admin.query<{ rows: number; md5: string }>(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') AS md5 FROM ${schema}.${name} t`,
    );
    result[name] = rows[0];
  }
  return result;
}

const VIEWER_AND_PROJECTS = `{ viewer { organization { slug } } projects(first: 50) { totalCount edges { node { name owner { email } } } } }`;

describe('a fresh database that already has a users and an organizations table of the application', () => {
  let db: Awaited<ReturnType<typeof database>>;
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
    await db.admin.end();
  });

  it('migrates: tenantgate\'s tables in its schema, the application\'s untouched, and the gateway serves', async () => {
    db = await database();
    const { admin } = db;
    await admin.query(`CREATE TABLE users (id serial PRIMARY KEY, login text NOT NULL)`);
    await admin.query(`CREATE TABLE organizations (code text PRIMARY KEY, users int[])`);
    await admin.query(`CREATE TYPE "Role" AS ENUM ('reader', 'writer')`);
    // The application's own Prisma migrations: not tenantgate's, left alone.
    await admin.query(`CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
      logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0)`);
    await admin.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('1', 'abc', '20240101000000_app_init')`);
    await admin.query(`INSERT INTO users (login) VALUES ('ada'), ('grace'); INSERT INTO organizations VALUES ('acme', '{1,2}')`);
    // The application's own SECURITY DEFINER function: its settings are not tenantgate's to pin.
    await admin.query(`CREATE FUNCTION public.user_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM public.users'`);
    const before = await contents(admin, { users: 'public', organizations: 'public', _prisma_migrations: 'public' });

    const result = await migrate(db.adminUrl);
    expect(result.applied).toEqual((await readMigrations()).map((m) => m.name));
    await ensureRuntimeRole(db.adminUrl, db.runtimeUrl);

    const tables = await tablesOf(admin);
    expect(tables.filter((t) => t.startsWith('tenantgate.'))).toEqual([...OWN_TABLES, '_prisma_migrations'].map((t) => `tenantgate.${t}`).sort());
    // The application's schema: its own three tables, and the example model's (Task).
    expect(tables.filter((t) => t.startsWith('public.'))).toEqual(['public._prisma_migrations', 'public.organizations', 'public.tasks', 'public.users']);
    expect(await contents(admin, { users: 'public', organizations: 'public', _prisma_migrations: 'public' })).toEqual(before);
    expect((await admin.query(`SELECT proconfig FROM pg_proc WHERE oid = 'public.user_count()'::regprocedure`)).rows).toEqual([{ proconfig: null }]);
    const columns = await admin.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0 ORDER BY attnum`);
    expect(columns.rows.map((r) => r.attname)).toEqual(['id', 'login']);
    const roleType = await admin.query(`SELECT array_agg(enumlabel::text ORDER BY enumsortorder) AS labels FROM pg_enum WHERE enumtypid = 'public."Role"'::regtype`);
    expect(roleType.rows).toEqual([{ labels: ['reader', 'writer'] }]);
    // Nothing of tenantgate's in public but the example model (and its enum).
    const types = await admin.query(`SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e' ORDER BY 1`);
    expect(types.rows.map((r) => r.typname)).toEqual(['Role', 'TaskStatus']);

    // The gateway's start-up checks pass, and it serves, from bare URLs.
    h = await startHarness({ database: { adminUrl: db.adminUrl, runtimeUrl: db.runtimeUrl } });
    await expect(assertRuntimeSearchPath(h.db.pool)).resolves.toBeUndefined();
    await expect(assertTenancy(h.db.pool)).resolves.toBeUndefined();
    const org = await h.createOrganization('Beside the application');
    const created = await h.execute(`mutation { createProject(input: { name: "First" }) { project { id } } }`, { token: org.owner.token });
    expect(created.errors).toBeUndefined();
    const projectId = (created.data as { createProject: { project: { id: string } } }).createProject.project.id;
    const task = await h.execute(`mutation ($p: ID!) { createTask(input: { projectId: $p, title: "In public" }) { task { title } } }`, { token: org.owner.token, variables: { p: projectId } });
    expect(task.errors).toBeUndefined();
    const read = await h.execute(VIEWER_AND_PROJECTS, { token: org.owner.token });
    expect(read).toMatchObject({ status: 200, data: { viewer: { organization: { slug: org.slug } }, projects: { totalCount: 1, edges: [{ node: { name: 'First', owner: { email: org.owner.email } } }] } } });
    expect(read.errors).toBeUndefined();
    const rows = await admin.query(`SELECT (SELECT count(*)::int FROM public.tasks) AS tasks, (SELECT count(*)::int FROM tenantgate.projects) AS projects`);
    expect(rows.rows).toEqual([{ tasks: 1, projects: 1 }]);
    // The application's users table is still only its own.
    expect((await admin.query(`SELECT login FROM public.users ORDER BY id`)).rows).toEqual([{ login: 'ada' }, { login: 'grace' }]);
  });
});

/** What installs of the previous layout recorded for migrations whose text changed since (src/db/migrate.ts, EARLIER_TEXTS). */
const EARLIER_CHECKSUMS: Record<string, string> = {
  '20261204135100_definer_hardening': 'f3d9c9662705e54f91d03d4a8f24f047141c6490ee298870a0c4bb74b054f1f1',
};

/**
 * The runner before this layout: every migration with the database's default
 * search_path (public), recorded in public._prisma_migrations.
 */
async function migratePreviousLayout(url: string): Promise<string[]> {
  const files = (await readMigrations()).filter((m) => m.name < MOVE);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
      migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    for (const file of files) {
      await client.query('BEGIN');
      await client.query(file.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), EARLIER_CHECKSUMS[file.name] ?? file.checksum, file.name],
      );
      await client.query('COMMIT');
    }
  } finally {
    await client.end();
  }
  return files.map((f) => f.name);
}

describe('a database migrated with the previous layout (every table in public), seeded', () => {
  let db: Awaited<ReturnType<typeof database>>;
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
    await db.admin.end();
  });

  it('moves every table to tenantgate\'s schema with every row, RLS forced and the policies kept; Task stays in public; the gateway serves', async () => {
    db = await database();
    const { admin } = db;
    const previous = await migratePreviousLayout(db.adminUrl);
    expect((await tablesOf(admin)).filter((t) => !t.startsWith('public.') && !t.startsWith('app.'))).toEqual([]);

    const [a, b, u1, u2, invoice] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await admin.query(`
      INSERT INTO organizations (id, slug, name, updated_at) VALUES ('${a}', 'previous-a', 'Previous A', now()), ('${b}', 'previous-b', 'Previous B', now());
      INSERT INTO users (id, email, name) VALUES ('${u1}', 'owner-a@previous.test', 'Owner A'), ('${u2}', 'owner-b@previous.test', 'Owner B');
      INSERT INTO memberships (organization_id, user_id, role) VALUES ('${a}', '${u1}', 'OWNER'), ('${b}', '${u2}', 'OWNER'), ('${a}', '${u2}', 'MEMBER');
      INSERT INTO subscriptions (organization_id, plan, seats) VALUES ('${a}', 'PRO', 10), ('${b}', 'FREE', 5)
        ON CONFLICT (organization_id) DO UPDATE SET plan = EXCLUDED.plan, seats = EXCLUDED.seats;
      INSERT INTO projects (id, organization_id, name, owner_id, updated_at)
        SELECT gen_random_uuid(), o, 'Project ' || g, u, now() FROM (VALUES ('${a}'::uuid, '${u1}'::uuid), ('${b}'::uuid, '${u2}'::uuid)) v(o, u), generate_series(1, 12) g;
      INSERT INTO tasks (id, organization_id, project_id, title, updated_at) SELECT gen_random_uuid(), organization_id, id, 'Task of ' || name, now() FROM projects;
      INSERT INTO usage_daily (organization_id, day, api_calls, bandwidth_bytes, compute_ms) VALUES ('${a}', '2026-11-01', 120, 40000, 900), ('${a}', '2026-11-02', 80, 1000, 20), ('${b}', '2026-11-01', 5, 10, 1);
      INSERT INTO usage_active_users (organization_id, day, user_id) VALUES ('${a}', '2026-11-01', '${u1}'), ('${a}', '2026-11-01', '${u2}');
      INSERT INTO invoices (id, organization_id, period, plan, currency, total_minor, due_date) VALUES ('${invoice}', '${a}', '2026-11-01', 'PRO', 'USD', 4900, '2026-12-15');
      INSERT INTO invoice_line_items (id, organization_id, invoice_id, position, kind, description, quantity, unit_price_minor, amount_minor)
        VALUES (gen_random_uuid(), '${a}', '${invoice}', 1, 'BASE_PLAN', 'Pro plan', 1, 4900, 4900);
      INSERT INTO audit_log (organization_id, actor_type, actor_id, action, details) VALUES ('${a}', 'user', '${u1}', 'project.created', '{"seeded": true}');
      INSERT INTO platform_audit_log (actor_user_id, action, subject_organization_id, reason) VALUES ('${u1}', 'organization.created', '${a}', 'seeded');
    `);
    const everyTable = { ...Object.fromEntries(OWN_TABLES.map((t) => [t, 'public'])), tasks: 'public' };
    const before = await contents(admin, everyTable);
    for (const t of ['organizations', 'users', 'memberships', 'subscriptions', 'subscription_history', 'projects', 'tasks', 'usage_daily', 'usage_active_users',
      'invoices', 'invoice_line_items', 'audit_log', 'platform_audit_log', 'events', 'access_versions', 'plan_limits']) {
      expect([t, before[t].rows > 0]).toEqual([t, true]);
    }
    const policiesOf = async () =>
      (await admin.query<{ t: string; p: string[] }>(`SELECT tablename AS t, array_agg(policyname::text ORDER BY policyname) AS p FROM pg_policies GROUP BY 1 ORDER BY 1`)).rows;
    const policiesBefore = await policiesOf();

    const result = await migrate(db.adminUrl);
    expect(result).toEqual({ applied: [MOVE], alreadyApplied: previous });
    await ensureRuntimeRole(db.adminUrl, db.runtimeUrl);

    expect(await contents(admin, { ...Object.fromEntries(OWN_TABLES.map((t) => [t, 'tenantgate'])), tasks: 'public' })).toEqual(before);
    const tables = await tablesOf(admin);
    expect(tables.filter((t) => t.startsWith('public.'))).toEqual(['public.tasks']);
    expect(tables.filter((t) => t.startsWith('tenantgate.'))).toEqual([...OWN_TABLES, '_prisma_migrations'].map((t) => `tenantgate.${t}`).sort());
    // The records moved with the tables: every migration, the move included, in tenantgate's schema.
    const records = await admin.query(`SELECT migration_name FROM tenantgate._prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1`);
    expect(records.rows.map((r) => r.migration_name)).toEqual([...previous, MOVE]);
    // The enums too, but the example model's.
    const enums = await admin.query(`SELECT typnamespace::regnamespace::text AS schema, array_agg(typname::text ORDER BY typname) AS names FROM pg_type WHERE typtype = 'e' GROUP BY 1 ORDER BY 1`);
    expect(enums.rows).toEqual([
      { schema: 'public', names: ['TaskStatus'] },
      { schema: 'tenantgate', names: ['InvitationStatus', 'InvoiceStatus', 'Plan', 'ProjectStatus', 'QuotaResource', 'Role', 'SubscriptionStatus', 'Visibility'] },
    ]);
    // RLS still enabled and forced on every table with organization_id; the policies are the same.
    const rls = await admin.query(
      `SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id'
        WHERE c.relkind = 'r' AND c.relnamespace::regnamespace::text IN ('public', 'tenantgate') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`,
    );
    expect(rls.rows).toEqual([]);
    expect(await policiesOf()).toEqual(policiesBefore);
    // Every pinned search_path of the app schema names tenantgate's schema before public.
    const paths = await admin.query<{ f: string; path: string }>(
      `SELECT p.oid::regprocedure::text AS f, c AS path FROM pg_proc p, unnest(p.proconfig) c WHERE p.pronamespace = 'app'::regnamespace AND c LIKE 'search_path=%'`,
    );
    expect(paths.rows.length).toBeGreaterThan(20);
    expect(paths.rows.filter((r) => !/search_path=pg_catalog, tenantgate, public/.test(r.path))).toEqual([]);

    h = await startHarness({ database: { adminUrl: db.adminUrl, runtimeUrl: db.runtimeUrl } });
    await expect(assertRuntimeSearchPath(h.db.pool)).resolves.toBeUndefined();
    await expect(assertTenancy(h.db.pool)).resolves.toBeUndefined();
    const token = await h.token(u1, a);
    const read = await h.execute(VIEWER_AND_PROJECTS, { token });
    expect(read.errors).toBeUndefined();
    expect(read).toMatchObject({ data: { viewer: { organization: { slug: 'previous-a' } }, projects: { totalCount: 12 } } });
    // Tasks of the organization only (RLS), through the model in public.
    expect((await h.execute(`{ tasks(first: 50) { totalCount } }`, { token })).data).toEqual({ tasks: { totalCount: 12 } });
    const created = await h.execute(`mutation { createProject(input: { name: "After the move" }) { project { name } } }`, { token });
    expect(created).toMatchObject({ data: { createProject: { project: { name: 'After the move' } } } });
    // Organization B sees its own, not A's.
    expect((await h.execute(`{ projects(first: 50) { totalCount } }`, { token: await h.token(u2, b) })).data).toEqual({ projects: { totalCount: 12 } });
    // And nothing is left to apply.
    expect((await migrate(db.adminUrl)).applied).toEqual([]);
  });
});

describe('a name tenantgate needs, taken by something it does not own', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a tenantgate.organizations table made by someone else',
      `CREATE SCHEMA tenantgate; CREATE TABLE tenantgate.organizations (id int PRIMARY KEY, name text); INSERT INTO tenantgate.organizations VALUES (1, 'theirs')`,
      /schema "tenantgate" exists and holds table tenantgate\.organizations, which tenantgate did not create/,
    ],
    [
      'a tenantgate schema with a function of someone else',
      `CREATE SCHEMA tenantgate; CREATE FUNCTION tenantgate.hello() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      /schema "tenantgate" exists and holds function tenantgate\.hello\(\), which tenantgate did not create/,
    ],
    ['an app schema of the application', `CREATE SCHEMA app`, /schema "app" \(owned by \w+\), which migration 20261127000000_gateway_core creates/],
    [
      'a tasks table of the application, where the example model goes',
      `CREATE TABLE tasks (id int)`,
      /table "public"\."tasks" \(owned by \w+\), which migration 20261204120100_tasks creates/,
    ],
  ];

  it.each(cases)('%s: db:migrate refuses before any change, with the code and the objects named', async (_, setup, named) => {
    const db = await database();
    try {
      await db.admin.query(setup);
      const before = await everything(db.admin);
      const refusal = migrate(db.adminUrl);
      await expect(refusal).rejects.toMatchObject({ code: NAME_TAKEN, message: expect.stringMatching(/^Refusing to migrate \(TG_MIGRATE_NAME_TAKEN\): names tenantgate needs are taken by objects it did not create: /) });
      await expect(refusal).rejects.toThrow(named);
      await expect(refusal).rejects.toThrow(/Nothing was changed\./);
      expect(await everything(db.admin)).toEqual(before);
    } finally {
      await db.admin.end();
    }
  });
});

describe('the schema name', () => {
  it('is the runner\'s to choose (DATABASE_SCHEMA), and a client generated for another one is refused at start with its code', async () => {
    const db = await database();
    try {
      await migrate(db.adminUrl, { schema: 'tg_other' });
      const tables = await tablesOf(db.admin);
      expect(tables.filter((t) => t.startsWith('tg_other.')).length).toBe(OWN_TABLES.length + 1);
      expect(tables.filter((t) => t.startsWith('public.'))).toEqual(['public.tasks']);
      const paths = await db.admin.query(`SELECT DISTINCT c AS path FROM pg_proc p, unnest(p.proconfig) c WHERE p.pronamespace = 'app'::regnamespace AND c LIKE 'search_path=%' ORDER BY 1`);
      expect(paths.rows.every((r) => r.path.includes('tg_other, public'))).toBe(true);
    } finally {
      await db.admin.end();
    }
    expect(() => assertBuiltSchema('tenantgate')).not.toThrow();
    expect(() => assertBuiltSchema('tg_other')).toThrow(expect.objectContaining({ code: SCHEMA_MISMATCH }));
    expect(() => assertBuiltSchema('tg_other')).toThrow(/DATABASE_SCHEMA is "tg_other", but the generated Prisma client puts tenantgate's models in "tenantgate"/);
  });
});
