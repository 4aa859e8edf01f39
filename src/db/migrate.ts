import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/**
 * Applies the migrations in `prisma/migrations` through the owner (admin)
 * connection, in Prisma's own format: one folder `<timestamp>_<name>` with a
 * `migration.sql` each, recorded in `_prisma_migrations` with the sha256 of the
 * file as checksum. A database migrated here is one that `prisma migrate deploy`
 * recognises, and the other way round.
 *
 * Prisma's schema engine cannot be downloaded on every machine, so this small
 * runner is the project's own path; it is also what `npm start` uses.
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

interface MigrationFile {
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

export async function migrate(adminUrl: string, options: { dir?: string } = {}): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await assertAdminRole(client);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    // Prisma's own definition of the table, so `prisma migrate deploy` can take over.
    await client.query(`
      CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum"            VARCHAR(64) NOT NULL,
        "finished_at"         TIMESTAMPTZ,
        "migration_name"      VARCHAR(255) NOT NULL,
        "logs"                TEXT,
        "rolled_back_at"      TIMESTAMPTZ,
        "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const recorded = new Map(rows.map((r) => [r.migration_name, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    const migrations = await readMigrations(options.dir);
    await assertNamesFree(client, migrations.filter((m) => !recorded.has(m.name)));

    for (const migration of migrations) {
      const record = recorded.get(migration.name);
      if (record && !record.finished_at) {
        throw new Error(
          `Migration ${migration.name} started earlier and did not finish. Fix the database by hand, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${migration.name}').`,
        );
      }
      if (record) {
        if (record.checksum !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied (checksum ${record.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk). Add a new migration instead of editing an applied one.`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      // DDL is transactional in PostgreSQL: a failing migration leaves nothing behind.
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
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

/** What a pending migration creates, read from its SQL: `CREATE TABLE "users"`, `CREATE TYPE "Role"`, `CREATE SCHEMA app`. */
export function namesCreated(sql: string): { kind: 'table' | 'type' | 'schema'; name: string }[] {
  const names: { kind: 'table' | 'type' | 'schema'; name: string }[] = [];
  const pattern = /^\s*CREATE\s+(TABLE|TYPE|SCHEMA)\s+(?!IF\s+NOT\s+EXISTS)(?:"?public"?\.)?"?([A-Za-z_][\w$]*)"?/gim;
  for (const match of sql.matchAll(pattern)) names.push({ kind: match[1].toLowerCase() as 'table' | 'type' | 'schema', name: match[2] });
  return names;
}

/**
 * Before any change: the names the pending migrations create must be free. A
 * database that already has a `users` table of its own would otherwise fail half
 * way with `relation "users" already exists`; this says which names are taken,
 * by what, and that nothing was changed.
 */
async function assertNamesFree(client: pg.Client, pending: MigrationFile[]): Promise<void> {
  const wanted = pending.flatMap((m) => namesCreated(m.sql).map((n) => ({ ...n, migration: m.name })));
  if (wanted.length === 0) return;
  const { rows } = await client.query<{ kind: string; name: string; owner: string }>(
    `SELECT 'table' AS kind, c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
     UNION ALL
     SELECT 'type', t.typname, pg_get_userbyid(t.typowner) FROM pg_type t
      WHERE t.typnamespace = 'public'::regnamespace AND t.typname = ANY($2) AND t.typtype <> 'c'
     UNION ALL
     SELECT 'schema', n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE n.nspname = ANY($3)`,
    [
      wanted.filter((n) => n.kind === 'table').map((n) => n.name),
      wanted.filter((n) => n.kind === 'type').map((n) => n.name),
      wanted.filter((n) => n.kind === 'schema').map((n) => n.name),
    ],
  );
  if (rows.length === 0) return;
  const taken = rows.map((r) => {
    const by = wanted.find((n) => n.kind === r.kind && n.name === r.name)!;
    return `${r.kind} "${r.name}" (owned by ${r.owner}), which migration ${by.migration} creates`;
  });
  throw new Error(
    `Refusing to migrate: names tenantgate needs are taken by objects it did not create: ${taken.join('; ')}. No migration was applied. ` +
      'tenantgate cannot yet keep its own tables in a schema of their own: point DATABASE_URL and DATABASE_ADMIN_URL at a database of its own (or rename those objects).',
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
 * existing role is left as it is, apart from the membership.
 */
export async function ensureRuntimeRole(adminUrl: string, runtimeUrl: string): Promise<{ created: boolean; role: string }> {
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
