import pg from 'pg';
import { ensureRuntimeRole, migrate, readMigrations } from '../src/db/migrate';
import { withSearchPath } from '../src/db/schemas';
import { signToken } from '../src/auth/tokens';
import { projectGlobalId, type TokenEntry } from './scenarios';

/**
 * The benchmark's own database: created on the server the environment names,
 * migrated with the project's runner, seeded with generate_series through the
 * admin connection, and reused on the next run when it already holds a dataset
 * of the requested size.
 */

// BENCH_DATABASE_NAME: a second dataset beside the first (one per branch under test, say).
export const BENCH_DATABASE = process.env.BENCH_DATABASE_NAME || 'tenantgate_bench';
export const BENCH_RUNTIME_ROLE = 'tenantgate_bench_app';

/**
 * Bumped whenever the shape of the seeded data changes, so an old dataset is not
 * mistaken for the current one.
 */
const SEED_VERSION = 2;

/**
 * Sharing in the seed (version 2): this fraction of the projects is shared
 * (READ) with the next organization, and this one is PUBLIC. Recorded in the
 * database's comment, so that a dataset seeded otherwise is seeded again.
 */
export const SHARED_FRACTION = 0.01;
export const PUBLIC_FRACTION = 0.001;

export interface BenchUrls {
  /** The bench database's name: tenantgate_bench, or BENCH_DATABASE_NAME (a run of its own beside another's dataset). */
  database: string;
  /** The admin role on the server's maintenance database: creates and drops the bench database. */
  serverUrl: string;
  /** The admin role on the bench database: migrations, the seed, the sample. */
  adminUrl: string;
  /** A non-superuser login role with a password: what the gateway and the baseline connect as. */
  runtimeUrl: string;
}

export function benchUrls(env: NodeJS.ProcessEnv = process.env): BenchUrls {
  const serverUrl = env.BENCH_DATABASE_URL || env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const database = env.BENCH_DATABASE_NAME || BENCH_DATABASE;
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`BENCH_DATABASE_NAME must be a plain lower-case identifier, got ${database}`);
  const admin = new URL(serverUrl);
  admin.pathname = `/${database}`;
  const runtime = new URL(admin.toString());
  runtime.username = env.BENCH_RUNTIME_ROLE || BENCH_RUNTIME_ROLE;
  // SECURITY: the role can only read and write the benchmark's synthetic data;
  // a fixed default keeps the run reproducible, the environment can override it.
  runtime.password = env.BENCH_RUNTIME_PASSWORD || 'tenantgate-bench-password';
  return { database, serverUrl, adminUrl: admin.toString(), runtimeUrl: runtime.toString() };
}

export interface DatasetSize {
  projects: number;
  orgs: number;
  usersPerOrg: number;
}

interface SeedMarker extends DatasetSize {
  tool: 'tenantgate-bench';
  version: number;
  sharedFraction?: number;
  publicFraction?: number;
  seededAt: string;
  seedSeconds: number;
}

export interface PreparedDataset {
  /** What the database holds (counted, not assumed). */
  projects: number;
  orgs: number;
  users: number;
  memberships: number;
  /** How the data got there on this run. */
  action: 'reused' | 'seeded' | 'as-is';
  /** Seconds the seed took on this run (0 when reused). */
  seedSeconds: number;
  /** When the reused data was seeded. */
  seededAt?: string;
}

export interface PrepareOptions {
  size: DatasetSize;
  skipSeed: boolean;
  reseed: boolean;
  log: (line: string) => void;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // tenantgate's schema, then public, in search_path (src/db/schemas.ts): the unqualified names below are
  // tenantgate's tables in either layout (in public before docs/adr/0090-own-schema.md).
  const client = new pg.Client({ connectionString: withSearchPath(url), application_name: 'tenantgate-bench-setup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(serverUrl: string, database: string): Promise<boolean> {
  return withClient(serverUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    return rowCount === 1;
  });
}

async function recreateDatabase(serverUrl: string, database: string, drop: boolean): Promise<void> {
  await withClient(serverUrl, async (client) => {
    const name = client.escapeIdentifier(database);
    // FORCE: a previous run killed mid-way may have left sessions behind.
    if (drop) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
}

async function readMarker(client: pg.Client): Promise<SeedMarker | null> {
  const { rows } = await client.query<{ comment: string | null }>(
    `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()`,
  );
  try {
    const marker = JSON.parse(rows[0]?.comment ?? 'null') as SeedMarker | null;
    return marker?.tool === 'tenantgate-bench' ? marker : null;
  } catch {
    return null;
  }
}

async function countRows(client: pg.Client): Promise<Omit<PreparedDataset, 'action' | 'seedSeconds' | 'seededAt'>> {
  const exists = await client.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass('projects')`);
  if (exists.rowCount === 0) return { projects: 0, orgs: 0, users: 0, memberships: 0 };
  const { rows } = await client.query<{ projects: number; orgs: number; users: number; memberships: number }>(`
    SELECT (SELECT count(*) FROM projects)::int      AS projects,
           (SELECT count(*) FROM organizations)::int AS orgs,
           (SELECT count(*) FROM users)::int         AS users,
           (SELECT count(*) FROM memberships)::int   AS memberships`);
  return rows[0];
}

/** Migrations recorded in the database that this checkout does not have (it was migrated by a newer one). */
async function unknownMigrations(client: pg.Client): Promise<string[]> {
  const exists = await client.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass('_prisma_migrations')`);
  if (exists.rowCount === 0) return [];
  const { rows } = await client.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL');
  const onDisk = new Set((await readMigrations()).map((m) => m.name));
  return rows.map((r) => r.migration_name).filter((name) => !onDisk.has(name));
}

/**
 * The API_CALLS quota (FREE plan: 1,000 calls a month) would start answering 429
 * after a few runs, and a benchmark of 429s is worthless. Each organization gets
 * an override far beyond reach instead of an unlimited plan, so the gateway still
 * does the quota check (reads this month's usage) as it does for a limited plan.
 * Applied on every run: migrations that add the table may come after the seed.
 */
async function applyFixtures(adminUrl: string, log: (line: string) => void): Promise<void> {
  const applied = await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass('quota_overrides')`);
    if (rowCount === 0) return false;
    await client.query(`
      INSERT INTO quota_overrides (organization_id, resource, "limit")
      SELECT id, 'API_CALLS', 1000000000000000 FROM organizations
      ON CONFLICT (organization_id, resource) DO UPDATE SET "limit" = EXCLUDED."limit"`);
    return true;
  });
  if (applied) log('  API_CALLS quota: an override of 10^15 calls per organization (the check runs, it never trips)');
  // The tasks(first: 20) scenario: one task per project, assigned to the project's owner, made once.
  const tasks = await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass('tasks')`);
    if (rowCount === 0 || (await client.query('SELECT 1 FROM tasks LIMIT 1')).rowCount) return 0;
    const inserted = await client.query(`
      INSERT INTO tasks (id, organization_id, project_id, title, status, assignee_id, created_at, updated_at)
      SELECT gen_random_uuid(), organization_id, id, 'Task of ' || name, 'TODO', owner_id, created_at, updated_at FROM projects`);
    await client.query('VACUUM (ANALYZE) tasks');
    return inserted.rowCount ?? 0;
  });
  if (tasks) log(`  tasks: ${tasks.toLocaleString('en-US')}, one per project, assigned to its owner`);
}

function sameSize(marker: SeedMarker | null, size: DatasetSize): marker is SeedMarker {
  return (
    marker !== null &&
    marker.version === SEED_VERSION &&
    marker.sharedFraction === SHARED_FRACTION &&
    marker.publicFraction === PUBLIC_FRACTION &&
    marker.projects === size.projects &&
    marker.orgs === size.orgs &&
    marker.usersPerOrg === size.usersPerOrg
  );
}

/**
 * Makes sure the bench database exists, is migrated, has the runtime role, and
 * holds a dataset of the requested size: reused when it already does, seeded
 * from scratch (in a freshly created database) when it does not.
 */
export async function prepareDataset(urls: BenchUrls, options: PrepareOptions): Promise<PreparedDataset> {
  const { size, log } = options;
  const exists = await databaseExists(urls.serverUrl, urls.database);

  let marker: SeedMarker | null = null;
  let counts = { projects: 0, orgs: 0, users: 0, memberships: 0 };
  let newer: string[] = [];
  if (exists) {
    ({ marker, counts, newer } = await withClient(urls.adminUrl, async (client) => ({
      marker: await readMarker(client),
      counts: await countRows(client),
      newer: await unknownMigrations(client),
    })));
  }
  // A schema from another checkout (other policies, other columns) would measure something else.
  if (newer.length > 0) log(`The bench database has migrations this checkout lacks (${newer.join(', ')}).`);
  const reusable =
    exists &&
    newer.length === 0 &&
    sameSize(marker, size) &&
    counts.projects === size.projects &&
    counts.orgs === size.orgs &&
    !options.reseed;

  if (options.skipSeed) {
    if (!exists || counts.projects === 0) throw new Error(`--skip-seed: database ${urls.database} holds no projects; run once without --skip-seed.`);
    await migrate(urls.adminUrl);
    await ensureRuntimeRole(urls.adminUrl, urls.runtimeUrl);
    await applyFixtures(urls.adminUrl, log);
    return { ...counts, action: 'as-is', seedSeconds: 0, seededAt: marker?.seededAt };
  }

  if (reusable) {
    // A dataset of this size is there: only make sure new migrations and the role are in place.
    const { applied } = await migrate(urls.adminUrl);
    await ensureRuntimeRole(urls.adminUrl, urls.runtimeUrl);
    if (applied.length > 0) {
      // PERF: a column added by a migration has no statistics until the next
      // ANALYZE, and adding it changes no row, so autovacuum never analyzes for
      // it. A policy that filters on it is then estimated at a fraction of a
      // percent, and the planner trades the page index for a bitmap scan and a
      // sort of the whole organization.
      log(`Applied migrations to the reused data: ${applied.join(', ')}; ANALYZE so the new columns have statistics.`);
      await withClient(urls.adminUrl, (client) => client.query('ANALYZE'));
    }
    await applyFixtures(urls.adminUrl, log);
    return { ...counts, action: 'reused', seedSeconds: 0, seededAt: marker?.seededAt };
  }

  // Another size, a half-finished seed or --reseed: start from an empty database,
  // so no leftover row or index bloat of an earlier run skews the figures.
  log(exists ? `Recreating database ${urls.database} (it held ${describe(counts)}).` : `Creating database ${urls.database}.`);
  await recreateDatabase(urls.serverUrl, urls.database, exists);
  const { applied } = await migrate(urls.adminUrl);
  log(`Applied migrations: ${applied.join(', ') || '(none)'}`);
  await ensureRuntimeRole(urls.adminUrl, urls.runtimeUrl);

  const started = performance.now();
  await withClient(urls.adminUrl, (client) => seed(client, size, log));
  await applyFixtures(urls.adminUrl, log);
  const seedSeconds = (performance.now() - started) / 1000;
  const seededAt = new Date().toISOString();
  const finalCounts = await withClient(urls.adminUrl, async (client) => {
    const result = await countRows(client);
    // Written last: a seed that died half-way leaves no marker and is redone next time.
    const next: SeedMarker = { tool: 'tenantgate-bench', version: SEED_VERSION, ...size, sharedFraction: SHARED_FRACTION, publicFraction: PUBLIC_FRACTION, seededAt, seedSeconds };
    await client.query(`COMMENT ON DATABASE ${client.escapeIdentifier(urls.database)} IS ${client.escapeLiteral(JSON.stringify(next))}`);
    return result;
  });
  return { ...finalCounts, action: 'seeded', seedSeconds, seededAt };
}

function describe(counts: { projects: number; orgs: number }): string {
  return `${counts.projects.toLocaleString('en-US')} projects in ${counts.orgs.toLocaleString('en-US')} organizations`;
}

/**
 * The seed: plain SQL with generate_series, so a million rows take seconds, not
 * the minutes that a million Prisma creates would.
 *
 * The shape matters for what is measured:
 * - each organization's projects are one contiguous block of `g`, so the inserts
 *   walk the (organization_id, …) indexes in order instead of splitting pages at random;
 * - created_at is random over three years and unrelated to the insertion order or
 *   the id, so "newest first" has to come from the index, not from luck;
 * - owners are drawn from the organization's own members, as the composite foreign
 *   key (organization_id, owner_id) → memberships demands (it is checked: no trigger is disabled).
 */
async function seed(client: pg.Client, size: DatasetSize, log: (line: string) => void): Promise<void> {
  const { projects, orgs, usersPerOrg } = size;
  // Integers only, validated by the option parser: safe to interpolate into the multi-statement scripts below.
  for (const value of [projects, orgs, usersPerOrg]) if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`bad size ${value}`);

  // The seed is disposable: losing its last commit to a crash only means seeding again.
  await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'`);

  await client.query(`
    CREATE TEMP TABLE seed_orgs AS
      SELECT n, gen_random_uuid() AS id FROM generate_series(1, ${orgs}) AS n;
    CREATE TEMP TABLE seed_members AS
      SELECT o.n AS org_n, o.id AS org_id, k, gen_random_uuid() AS user_id
        FROM seed_orgs o CROSS JOIN generate_series(1, ${usersPerOrg}) AS k;

    INSERT INTO organizations (id, slug, name, created_at, updated_at)
      SELECT id, 'bench-' || lpad(n::text, 7, '0'), 'Bench organization ' || n,
             now() - interval '4 years', now() - interval '4 years'
        FROM seed_orgs;
    INSERT INTO users (id, email, name, created_at)
      SELECT user_id, format('user%s@bench-%s.example', k, lpad(org_n::text, 7, '0')),
             format('User %s of organization %s', k, org_n), now() - interval '4 years'
        FROM seed_members;
    INSERT INTO memberships (organization_id, user_id, role, created_at)
      SELECT org_id, user_id, (CASE k WHEN 1 THEN 'OWNER' WHEN 2 THEN 'ADMIN' ELSE 'MEMBER' END)::"Role",
             now() - interval '4 years'
        FROM seed_members;

    CREATE TEMP TABLE seed_owners AS
      SELECT org_n AS n, org_id AS id, array_agg(user_id ORDER BY k) AS members
        FROM seed_members GROUP BY org_n, org_id;
    CREATE UNIQUE INDEX ON seed_owners (n);
    ANALYZE seed_owners;`);
  log(`  ${orgs.toLocaleString('en-US')} organizations, ${(orgs * usersPerOrg).toLocaleString('en-US')} users and memberships`);

  // Chunks of whole organizations' worth of rows, so progress shows and no single
  // statement holds a million-row snapshot.
  const chunk = Math.max(50_000, Math.ceil(projects / 10));
  for (let lo = 1; lo <= projects; lo += chunk) {
    const hi = Math.min(projects, lo + chunk - 1);
    // The inner SELECT has volatile functions in its target list, so PostgreSQL
    // does not flatten it: each row's created_at is drawn once and reused below.
    await client.query(`
      INSERT INTO projects (id, organization_id, name, status, owner_id, created_at, updated_at)
      SELECT gen_random_uuid(), org_id, name,
             (CASE WHEN r < 0.7 THEN 'ACTIVE' WHEN r < 0.9 THEN 'COMPLETED' ELSE 'ARCHIVED' END)::"ProjectStatus",
             owner_id, created_at, least(now(), created_at + random() * interval '90 days')
        FROM (SELECT o.id AS org_id,
                     'Project ' || g || ' ' || substr(md5(g::text), 1, 8) AS name,
                     o.members[1 + floor(random() * ${usersPerOrg})::int] AS owner_id,
                     now() - random() * interval '3 years' AS created_at,
                     random() AS r
                FROM generate_series(${lo}, ${hi}) AS g
                JOIN seed_owners o ON o.n = 1 + ((g - 1)::bigint * ${orgs}) / ${projects}) AS s`);
    log(`  projects ${hi.toLocaleString('en-US')} / ${projects.toLocaleString('en-US')}`);
  }

  // Sharing (scope ALL, docs/adr/0052): grants through share_grants, whose trigger
  // writes the rows' grant arrays as in production; each organization shares with
  // the next one, so every organization receives about as many as it gives.
  // Drawn from the id's hash: the same projects whatever the run.
  const shared = await client.query(`
    INSERT INTO share_grants (organization_id, resource, resource_id, grantee_id, can_write)
    SELECT p.organization_id, 'projects', p.id, next.id, false
      FROM projects p
      JOIN seed_orgs o ON o.id = p.organization_id
      JOIN seed_orgs next ON next.n = 1 + (o.n % ${orgs})
     WHERE ${orgs} > 1 AND abs(hashtext(p.id::text)) % 100000 < ${Math.round(SHARED_FRACTION * 100000)}`);
  await client.query(`UPDATE projects SET visibility = 'SHARED' WHERE cardinality(shared_read_org_ids) > 0`);
  const published = await client.query(`
    UPDATE projects SET visibility = 'PUBLIC'
     WHERE visibility = 'PRIVATE' AND abs(hashtext(id::text || 'public')) % 100000 < ${Math.round(PUBLIC_FRACTION * 100000)}`);
  log(`  sharing: ${(shared.rowCount ?? 0).toLocaleString('en-US')} projects shared (READ) with the next organization, ${(published.rowCount ?? 0).toLocaleString('en-US')} public`);

  // VACUUM rather than only ANALYZE: it also sets the hint bits and the visibility
  // map, which the first reads would otherwise do (and write) during the
  // measurement. CHECKPOINT so that the seed's dirty pages are not flushed during it.
  log('  VACUUM (ANALYZE), CHECKPOINT');
  await client.query('RESET synchronous_commit');
  for (const table of ['organizations', 'users', 'memberships', 'projects', 'share_grants']) await client.query(`VACUUM (ANALYZE) ${table}`);
  await client.query('CHECKPOINT');
}

/** One organization that gets a token, with what its requests may ask for. */
export interface SampledOrganization {
  organizationId: string;
  /** A member, the token's subject. */
  userId: string;
  projectCount: number;
  /** Row ids (not global ids) of some of its projects, for `project(id:)`. */
  projectIds: string[];
}

/** A six-hour token for a member of each sampled organization, as the load generator sends them. */
export function tokenEntries(sample: readonly SampledOrganization[], secret: string): Promise<TokenEntry[]> {
  return Promise.all(
    sample.map(async (s) => ({
      organizationId: s.organizationId,
      token: await signToken({ secret, userId: s.userId, organizationId: s.organizationId, expiresIn: '6h' }),
      expectedPageSize: Math.min(20, s.projectCount),
      projectGlobalIds: s.projectIds.map(projectGlobalId),
    })),
  );
}

/**
 * A random sample of organizations, each with a random member and random
 * projects. Read through the admin role: RLS would hide every organization but one.
 */
export async function sampleOrganizations(adminUrl: string, count: number, projectsPerOrg = 50): Promise<SampledOrganization[]> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ organization_id: string; user_id: string; project_count: number; project_ids: string[] }>(
      `SELECT o.id AS organization_id,
              (SELECT m.user_id FROM memberships m WHERE m.organization_id = o.id ORDER BY random() LIMIT 1) AS user_id,
              (SELECT count(*) FROM projects p WHERE p.organization_id = o.id)::int AS project_count,
              ARRAY(SELECT p.id FROM projects p WHERE p.organization_id = o.id ORDER BY random() LIMIT $2) AS project_ids
         FROM (SELECT id FROM organizations ORDER BY random() LIMIT $1) AS o`,
      [count, projectsPerOrg],
    );
    return rows
      .filter((row) => row.user_id !== null && row.project_ids.length > 0)
      .map((row) => ({
        organizationId: row.organization_id,
        userId: row.user_id,
        projectCount: row.project_count,
        projectIds: row.project_ids,
      }));
  });
}
