import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { datamodel } from '../generated/tenancy-datamodel';
import type { TenancyDatamodel } from '../tenancy/model';
import { builtSchema, quoteIdent, searchPath } from './schemas';

/**
 * Applies the migrations in `prisma/migrations` through the owner (admin)
 * connection, in Prisma's own format: one folder `<timestamp>_<name>` with a
 * `migration.sql` each, recorded in `_prisma_migrations` with the sha256 of the
 * file as checksum. A database migrated here is one that `prisma migrate deploy`
 * recognises, and the other way round.
 *
 * Prisma's schema engine cannot be downloaded on every machine, so this small
 * runner is the project's own path; it is also what `npm start` uses.
 *
 * tenantgate's tables live in a schema of their own (DATABASE_SCHEMA, default
 * tenantgate; docs/adr/0090-own-schema.md): the runner keeps its records there,
 * applies the migrations with that schema first in search_path, moves the
 * records of an install of the previous layout (all in public), and refuses,
 * before any change, names it needs that something else holds.
 */

export const MIGRATIONS_DIR = path.join(__dirname, '..', '..', 'prisma', 'migrations');

/** Name of the NOLOGIN group role that the migrations grant table access to. */
export const RUNTIME_GROUP_ROLE = 'tenantgate_runtime';

// Any constant will do: it serialises concurrent runners (two gateways starting at once).
const MIGRATION_LOCK_KEY = 72707369;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && /^\d{14}_/.test(e.name))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}

export interface MigrateOptions {
  dir?: string;
  /**
   * The schema of tenantgate's own tables (DATABASE_SCHEMA).
   * @default the one the generated client was built for (src/db/schemas.ts)
   */
  schema?: string;
}

/** The code of a refusal before any change: a name tenantgate needs is taken by something it did not create. */
export const NAME_TAKEN = 'TG_MIGRATE_NAME_TAKEN';

/** A refusal of the runner before it changed anything. */
export class MigrationRefusedError extends Error {
  override name = 'MigrationRefusedError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function migrate(adminUrl: string, options: MigrateOptions = {}): Promise<MigrationResult> {
  const schema = options.schema ?? builtSchema();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await assertAdminRole(client);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const migrations = await readMigrations(options.dir);
    const layout = await readLayout(client, schema, migrations);
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    const pending: MigrationFile[] = [];
    for (const migration of migrations) {
      const record = layout.recorded.get(migration.name);
      if (record && !record.finished_at) {
        throw new Error(
          `Migration ${migration.name} started earlier and did not finish. Fix the database by hand, then mark it rolled back (UPDATE ${layout.recordsTable} SET rolled_back_at = now() WHERE migration_name = '${migration.name}').`,
        );
      }
      if (record && record.checksum !== migration.checksum && !EARLIER_TEXTS[migration.name]?.includes(record.checksum)) {
        throw new Error(
          `Migration ${migration.name} was changed after it was applied (checksum ${record.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk). Add a new migration instead of editing an applied one.`,
        );
      }
      if (record) result.alreadyApplied.push(migration.name);
      else pending.push(migration);
    }
    // Before any change: everything the pending migrations create must be free.
    await assertNamesFree(client, layout, pending);
    if (pending.length === 0 && layout.records === 'own') return result;

    await client.query('BEGIN');
    try {
      await prepareLayout(client, layout);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    await client.query(`SET search_path = ${migrationSearchPath(schema)}`);
    for (const migration of pending) {
      // DDL is transactional in PostgreSQL: a failing migration leaves nothing behind.
      await client.query('BEGIN');
      try {
        await client.query(migrationSql(migration.sql, schema));
        await client.query(
          `INSERT INTO ${recordsTableOf(schema)} (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.name} failed and was rolled back: ${(error as Error).message}`);
      }
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end();
  }
}

/**
 * The search path the migrations run with: tenantgate's schema first, so that
 * an unqualified `CREATE TABLE "users"` creates tenantgate.users whatever the
 * database's public schema holds, then the application's schema, and pg_temp
 * named last. A function that pins `SET search_path FROM CURRENT` gets exactly
 * this path (what SECURITY DEFINER functions need, test/definer.test.ts).
 */
export function migrationSearchPath(schema: string): string {
  return `${searchPath(schema)}, pg_temp`;
}

/**
 * Applied migrations whose file was changed afterwards, on purpose: the checksums
 * of their earlier texts, which a database may have recorded.
 * - 20261204135100_definer_hardening pinned the search_path of every SECURITY
 *   DEFINER function in the database, the application's own included; it now
 *   pins tenantgate's (schema app) only. A database that ran the earlier text
 *   keeps what it did; its effect on tenantgate's functions is the same.
 */
const EARLIER_TEXTS: Record<string, readonly string[]> = {
  '20261204135100_definer_hardening': ['f3d9c9662705e54f91d03d4a8f24f047141c6490ee298870a0c4bb74b054f1f1'],
};

const recordsTableOf = (schema: string) => `${quoteIdent(schema)}."_prisma_migrations"`;

/**
 * A migration's SQL as the runner applies it: a `SET search_path` list that
 * names public names tenantgate's schema just before it. The migrations written
 * when every table was in public pin `pg_catalog, public` on their functions; in
 * tenantgate's schema those functions would not find its tables (and a SQL
 * function's body is checked against its path when it is created). The file,
 * and so its checksum, stays as written; migration 20261205190100_tenantgate_schema
 * does the same to the functions of an install of the previous layout.
 */
export function migrationSql(sql: string, schema: string): string {
  const name = /^[a-z_][a-z0-9_$]*$/.test(schema) ? schema : quoteIdent(schema);
  return sql.replace(/\b(SET\s+search_path\s*(?:=|TO)\s*)([A-Za-z_"][\w$", ]*)/gi, (whole, head: string, list: string) => {
    const items = list.split(',').map((item) => item.trim());
    if (!items.includes('public') || items.includes(name) || items.includes(quoteIdent(schema))) return whole;
    const trailing = /\s*$/.exec(list)![0];
    return head + items.flatMap((item) => (item === 'public' ? [name, 'public'] : [item])).join(', ') + trailing;
  });
}

interface MigrationRecord {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Where tenantgate's migrations are recorded, read before anything changes:
 * - `own`: `_prisma_migrations` in tenantgate's schema (this layout);
 * - `previous`: in public, from before tenantgate had a schema of its own
 *   (recognised by the names of tenantgate's migrations in it): the records move
 *   to the schema, and migration 20261205190100_tenantgate_schema moves the tables;
 * - `none`: a database tenantgate never migrated. A `public._prisma_migrations`
 *   without tenantgate's migrations is another application's, and left alone.
 */
export interface Layout {
  schema: string;
  records: 'own' | 'previous' | 'none';
  recordsTable: string;
  recorded: Map<string, MigrationRecord>;
  /** What tenantgate's schema holds when tenantgate has no records there: someone else's objects. */
  foreignObjects: string[];
  /** Migration names of the folder, to tell tenantgate's records from another application's. */
  names: string[];
}

export async function readLayout(client: Pick<pg.ClientBase, 'query'>, schema: string, migrations: MigrationFile[]): Promise<Layout> {
  const names = migrations.map((m) => m.name);
  const { rows: [state] } = await client.query<{ exists: boolean; own: boolean; public: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
            EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = '_prisma_migrations') AS own,
            to_regclass('public._prisma_migrations') IS NOT NULL AS public`,
    [schema],
  );
  const read = async (table: string) =>
    (await client.query<MigrationRecord>(`SELECT migration_name, checksum, finished_at FROM ${table} WHERE rolled_back_at IS NULL`)).rows;
  const layout: Layout = { schema, records: 'none', recordsTable: recordsTableOf(schema), recorded: new Map(), foreignObjects: [], names };
  if (state.own) {
    const rows = await read(recordsTableOf(schema));
    // Empty, or with tenantgate's names: its own. Another application's records in that schema are not.
    if (rows.length === 0 || rows.some((r) => names.includes(r.migration_name))) {
      return { ...layout, records: 'own', recorded: new Map(rows.map((r) => [r.migration_name, r])) };
    }
  } else if (state.public) {
    const rows = (await read('public."_prisma_migrations"')).filter((r) => names.includes(r.migration_name));
    if (rows.length > 0) {
      Object.assign(layout, { records: 'previous', recordsTable: 'public."_prisma_migrations"', recorded: new Map(rows.map((r) => [r.migration_name, r])) });
    }
  }
  if (state.exists) {
    // Not recorded as tenantgate's (an own layout returned above): whatever the schema holds is someone else's.
    const { rows } = await client.query<{ object: string }>(
      `SELECT format('%s %I.%I', CASE WHEN c.relkind IN ('r', 'p') THEN 'table' WHEN c.relkind = 'v' THEN 'view' WHEN c.relkind = 'S' THEN 'sequence' ELSE 'relation' END, n.nspname, c.relname) AS object
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       UNION ALL
       SELECT format('type %I.%I', n.nspname, t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1
          AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
       UNION ALL
       SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
       ORDER BY 1`,
      [schema],
    );
    layout.foreignObjects = rows.map((r) => r.object);
  }
  return layout;
}

/**
 * Makes the layout the migrations expect, in the caller's transaction: the
 * schema, its `_prisma_migrations` (Prisma's own definition, so that
 * `prisma migrate deploy` can take over), and tenantgate's records of the
 * previous layout moved there from public (another application's stay).
 */
export async function prepareLayout(client: Pick<pg.ClientBase, 'query'>, layout: Layout): Promise<void> {
  const records = recordsTableOf(layout.schema);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(layout.schema)}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS ${records} (
      "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"            VARCHAR(64) NOT NULL,
      "finished_at"         TIMESTAMPTZ,
      "migration_name"      VARCHAR(255) NOT NULL,
      "logs"                TEXT,
      "rolled_back_at"      TIMESTAMPTZ,
      "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
  if (layout.records !== 'previous') return;
  const columns = '"id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count"';
  await client.query(`INSERT INTO ${records} (${columns}) SELECT ${columns} FROM public."_prisma_migrations" WHERE migration_name = ANY($1)`, [layout.names]);
  await client.query(`DELETE FROM public."_prisma_migrations" WHERE migration_name = ANY($1)`, [layout.names]);
  const { rows } = await client.query<{ left: boolean }>(`SELECT EXISTS (SELECT 1 FROM public."_prisma_migrations") AS left`);
  if (!rows[0].left) await client.query(`DROP TABLE public."_prisma_migrations"`);
}

type Created = { kind: 'table' | 'type' | 'schema'; schema?: string; name: string };

/**
 * What a pending migration creates, read from its SQL: `CREATE TABLE "users"`,
 * `CREATE TYPE "Role"`, `CREATE SCHEMA app`, `CREATE TABLE app.shareable_tables`,
 * `CREATE TABLE "public"."x"`. `schema` is the qualifier when there is one.
 */
export function namesCreated(sql: string): Created[] {
  const names: Created[] = [];
  const id = '(?:"((?:[^"]|"")+)"|([A-Za-z_][\\w$]*))';
  const pattern = new RegExp(`^\\s*CREATE\\s+(TABLE|TYPE|SCHEMA)\\s+(?!IF\\s+NOT\\s+EXISTS)${id}(?:\\.${id})?`, 'gim');
  for (const match of sql.matchAll(pattern)) {
    const first = (match[2] ?? match[3]).replace(/""/g, '"');
    const second = (match[4] ?? match[5])?.replace(/""/g, '"');
    const kind = match[1].toLowerCase() as Created['kind'];
    names.push(second === undefined ? { kind, name: first } : { kind, schema: first, name: second });
  }
  return names;
}

/**
 * Before any change: the names the pending migrations create must be free, in
 * the schema each lands in (its qualifier, else tenantgate's schema, which the
 * runner puts first in search_path; a table of the application's models, in
 * their schema, where migration 20261205190100_tenantgate_schema puts it), and
 * tenantgate's schema must be its own or hold nothing. A database with a
 * `users` table of its own is fine; one whose tenantgate schema holds someone
 * else's `organizations` is refused, naming the objects, and left as it was.
 */
async function assertNamesFree(client: pg.Client, layout: Layout, pending: MigrationFile[], model: TenancyDatamodel = datamodel): Promise<void> {
  const taken: string[] = [];
  if (layout.records !== 'own' && layout.foreignObjects.length > 0) {
    taken.push(`schema "${layout.schema}" exists and holds ${layout.foreignObjects.slice(0, 10).join(', ')}${layout.foreignObjects.length > 10 ? ` and ${layout.foreignObjects.length - 10} more` : ''}, which tenantgate did not create`);
  }
  // The application's models live outside tenantgate's schema (Task in public): so do their tables and enums.
  const placed = new Map<string, string>();
  for (const m of model.models) {
    if (!m.schema || m.schema === layout.schema) continue;
    placed.set(`table ${m.dbName ?? m.name}`, m.schema);
    for (const f of m.fields) if (f.kind === 'enum') placed.set(`type ${f.type}`, m.schema);
  }
  const wanted = pending.flatMap((m) =>
    namesCreated(m.sql).flatMap((n) => {
      if (n.kind === 'schema') return [{ ...n, schema: '', migration: m.name }];
      const where = [n.schema ?? layout.schema];
      const elsewhere = placed.get(`${n.kind} ${n.name}`);
      if (!n.schema && elsewhere) where.push(elsewhere);
      return where.map((schema) => ({ ...n, schema, migration: m.name }));
    }),
  );
  if (wanted.length > 0) {
    // Tables, types, indexes and sequences share one namespace per schema: any of them takes the name.
    const objects = wanted.filter((n) => n.kind !== 'schema');
    const { rows } = await client.query<{ kind: string; schema: string; name: string; owner: string }>(
      `SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'i' THEN 'index'
                             WHEN 'I' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' ELSE 'relation' END AS kind,
              n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS w(schema, name) ON w.schema = n.nspname AND w.name = c.relname
       UNION ALL
       SELECT 'type', n.nspname, t.typname, pg_get_userbyid(t.typowner) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS w(schema, name) ON w.schema = n.nspname AND w.name = t.typname
        WHERE t.typtype <> 'c'
       UNION ALL
       SELECT 'schema', '', n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE n.nspname = ANY($3)`,
      [objects.map((n) => n.schema), objects.map((n) => n.name), wanted.filter((n) => n.kind === 'schema').map((n) => n.name)],
    );
    for (const r of rows) {
      const by = wanted.find((n) => (r.kind === 'schema') === (n.kind === 'schema') && n.name === r.name && n.schema === r.schema)!;
      const what = r.kind === 'schema' ? `schema "${r.name}"` : `${r.kind} "${r.schema}"."${r.name}"`;
      taken.push(`${what} (owned by ${r.owner}), which migration ${by.migration} creates`);
    }
  }
  if (taken.length === 0) return;
  throw new MigrationRefusedError(
    `Refusing to migrate (${NAME_TAKEN}): names tenantgate needs are taken by objects it did not create: ${taken.join('; ')}. Nothing was changed. ` +
      `tenantgate keeps its own tables in the schema "${layout.schema}" and its functions in "app": rename or drop those objects, or give tenantgate another schema (DATABASE_SCHEMA, docs/adr/0090-own-schema.md).`,
    NAME_TAKEN,
  );
}

/**
 * The admin path seeds and runs platform jobs across organizations, so its role
 * must bypass row-level security: a superuser, or a role with BYPASSRLS.
 */
async function assertAdminRole(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const role = rows[0];
  if (!role?.rolsuper && !role?.rolbypassrls) {
    throw new Error(
      `DATABASE_ADMIN_URL connects as "${role?.rolname}", which is neither superuser nor BYPASSRLS. The admin role runs migrations, the seed and platform jobs across organizations; give it BYPASSRLS (ALTER ROLE ${role?.rolname} BYPASSRLS) or use the database owner.`,
    );
  }
}

/**
 * Creates the runtime login role named in `runtimeUrl` when it does not exist,
 * and makes it a member of the group role that the migrations grant to. An
 * existing role is left as it is, apart from the membership and its
 * search_path in this database: tenantgate's schema, then public (raw SQL and
 * the access check find the tables through it; a setting of the role in the
 * database, so that it also holds behind PgBouncer and costs no statement).
 */
export async function ensureRuntimeRole(
  adminUrl: string,
  runtimeUrl: string,
  options: { schema?: string } = {},
): Promise<{ created: boolean; role: string }> {
  const { user, password } = parseCredentials(runtimeUrl);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
      'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1',
      [user],
    );
    const ident = client.escapeIdentifier(user);
    let created = false;
    if (rows.length === 0) {
      // SECURITY: the runtime role is the one RLS applies to: never superuser, never BYPASSRLS.
      const pass = password ? ` PASSWORD ${client.escapeLiteral(password)}` : '';
      // Two runners may race to create the same cluster-wide role; the loser sees 42710.
      await client.query(`CREATE ROLE ${ident} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE${pass}`).catch((e) => {
        if ((e as { code?: string }).code !== '42710') throw e;
      });
      created = true;
    }
    await client.query(`GRANT ${RUNTIME_GROUP_ROLE} TO ${ident}`);
    const { rows: [{ database }] } = await client.query<{ database: string }>('SELECT current_database() AS database');
    await client.query(`ALTER ROLE ${ident} IN DATABASE ${client.escapeIdentifier(database)} SET search_path = ${searchPath(options.schema ?? builtSchema())}`);
    return { created, role: user };
  } finally {
    await client.end();
  }
}

export function parseCredentials(url: string): { user: string; password: string | undefined; database: string } {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  if (!user) throw new Error(`The connection URL ${redactUrl(url)} names no user.`);
  return {
    user,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return '<unparseable connection URL>';
  }
}
