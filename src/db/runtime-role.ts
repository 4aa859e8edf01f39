import type pg from 'pg';

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
