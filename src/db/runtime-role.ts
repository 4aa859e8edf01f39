import type pg from 'pg';
import { StartupError } from '../ops/startup-errors';
import { builtSchema, searchPath } from './schemas';

/**
 * SECURITY: row-level security does not apply to superusers, to roles with
 * BYPASSRLS, or (without FORCE) to a table's owner. The gateway refuses to serve
 * through such a role, so isolation cannot be switched off by a configuration slip.
 */
export async function assertRuntimeRole(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const role = rows[0];
  const problems: string[] = [];
  if (role.rolsuper) problems.push('it is a superuser');
  if (role.rolbypassrls) problems.push('it has BYPASSRLS');
  // Owning a table, directly or through a role it inherits from, is owning it.
  const owned = await pool.query<{ table: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND pg_has_role(current_user, c.relowner, 'USAGE')
      ORDER BY 1 LIMIT 5`,
  );
  if (owned.rows.length > 0) problems.push(`it owns ${owned.rows.map((r) => r.table).join(', ')}`);
  if (problems.length > 0) {
    throw new Error(
      `Refusing to start: the runtime role "${role.rolname}" (DATABASE_URL) would bypass row-level security because ${problems.join(' and ')}. ` +
        'Connect as a role that is not superuser, owns no table and has no BYPASSRLS; `npm run db:migrate` creates one from DATABASE_URL.',
    );
  }
}

/** The code of a runtime role whose search_path does not lead to tenantgate's schema. */
export const RUNTIME_SEARCH_PATH = 'TG_RUNTIME_SEARCH_PATH';

/**
 * The runtime connections find tenantgate's tables (in raw SQL, in the access
 * check's function) through search_path, which `npm run db:migrate` sets on the
 * runtime role in the database (src/db/migrate.ts, ensureRuntimeRole). Without
 * it the first request would fail on a missing relation; this says so at start.
 */
export async function assertRuntimeSearchPath(pool: pg.Pool, schema: string = builtSchema()): Promise<void> {
  const { rows } = await pool.query<{ role: string; database: string; schemas: string[]; path: string }>(
    `SELECT current_user AS role, current_database() AS database, current_schemas(false)::text[] AS schemas, current_setting('search_path') AS path`,
  );
  const { role, database, schemas, path } = rows[0];
  if (schemas[0] === schema) return;
  throw Object.assign(
    new StartupError(
      `Refusing to start (${RUNTIME_SEARCH_PATH}): the runtime role "${role}" (DATABASE_URL) has search_path = ${path}, which does not lead to tenantgate's schema "${schema}"` +
        `${schemas.includes(schema) ? '' : ' (or the schema does not exist yet)'}. \`npm run db:migrate\` sets it (ALTER ROLE ${role} IN DATABASE ${database} SET search_path = ${searchPath(schema)}).`,
    ),
    { code: RUNTIME_SEARCH_PATH },
  );
}
