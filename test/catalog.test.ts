import pg from 'pg';
import { testUrls } from './helpers/harness';
import { assertRuntimeRole } from '../src/db/runtime-role';
import { parseCredentials } from '../src/db/migrate';
import { REFUSALS } from '../src/db/database-errors';

/**
 * Reads PostgreSQL's catalog: a wrong policy fails quietly (0 rows, no error),
 * so the rules that make isolation hold are checked on the schema itself.
 * Every table with an organization_id column must have all of them.
 */

let admin: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: testUrls().adminUrl });
  await admin.connect();
});
afterAll(() => admin.end());

async function tenantTables(): Promise<string[]> {
  const { rows } = await admin.query<{ table: string }>(
    `SELECT c.relname AS table
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attname = 'organization_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = 'public'
      ORDER BY 1`,
  );
  return rows.map((r) => r.table);
}

describe('every tenant table', () => {
  it('exists (the check below is not vacuous)', async () => {
    expect(await tenantTables()).toEqual(expect.arrayContaining(['memberships', 'projects']));
  });

  it('has ENABLE and FORCE ROW LEVEL SECURITY', async () => {
    const { rows } = await admin.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) AND relnamespace = 'public'::regnamespace`,
      [await tenantTables()],
    );
    const missing = rows.filter((r) => !r.relrowsecurity || !r.relforcerowsecurity).map((r) => r.relname);
    expect(missing).toEqual([]);
  });

  it('has permissive policies whose USING and WITH CHECK compare organization_id with app.current_org_id(); restrictive ones only narrow; no subqueries', async () => {
    const problems: string[] = [];
    for (const table of await tenantTables()) {
      const { rows } = await admin.query<{ policyname: string; cmd: string; qual: string | null; with_check: string | null; permissive: string }>(
        `SELECT policyname, cmd, qual, with_check, permissive FROM pg_policies WHERE schemaname = 'public' AND tablename = $1`,
        [table],
      );
      if (!rows.some((p) => p.permissive === 'PERMISSIVE')) problems.push(`${table}: no permissive policy`);
      for (const p of rows) {
        if (/\bSELECT\b/i.test(`${p.qual ?? ''} ${p.with_check ?? ''}`)) problems.push(`${table}.${p.policyname}: has a subquery`);
        // A restrictive policy is ANDed with the others: it can hide rows, never reveal them.
        if (p.permissive === 'RESTRICTIVE') continue;
        const scoped = (expr: string | null) => !!expr && /organization_id = app\.current_org_id\(\)/.test(expr);
        if (!scoped(p.qual)) problems.push(`${table}.${p.policyname}: USING does not compare organization_id with app.current_org_id()`);
        if (p.cmd !== 'SELECT' && p.cmd !== 'DELETE' && !scoped(p.with_check)) {
          problems.push(`${table}.${p.policyname}: WITH CHECK does not compare organization_id with app.current_org_id()`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('leads its primary key with organization_id', async () => {
    const { rows } = await admin.query<{ table: string; first: string }>(
      `SELECT c.relname AS table, a.attname AS first
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
        WHERE i.indisprimary AND c.relname = ANY($1)`,
      [await tenantTables()],
    );
    expect(rows.filter((r) => r.first !== 'organization_id')).toEqual([]);
    expect(rows.length).toBe((await tenantTables()).length);
  });

  it('leads every index with organization_id, except lookups by a global identity', async () => {
    const { rows } = await admin.query<{ index: string; first: string }>(
      `SELECT ic.relname AS index, a.attname AS first
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
        WHERE c.relname = ANY($1)`,
      [await tenantTables()],
    );
    // memberships_user_id_idx serves "which organizations does this user belong to", across tenants, by design.
    // Found across tenants by design: the first verified wins a domain
    // (organization_domains_verified_once), a link's token names its row, and
    // sharing (migration 20261204150200_sharing) looks up the rows shared with an
    // organization, the public rows, and a grantee's grants (its deletion).
    const allowed = new Set([
      'memberships_user_id_idx',
      'organization_domains_verified_once',
      'organization_domains_email_token_hash',
      'invitations_token_hash_key',
      'share_grants_grantee_id_idx',
      'projects_shared_read_org_ids_idx',
      'projects_public_idx',
      'templates_shared_read_org_ids_idx',
      'templates_public_idx',
      // The event relay works across tenants (partial indexes, usually near empty).
      'events_undispatched_idx',
      'deliveries_requeued_idx',
    ]);
    expect(rows.filter((r) => r.first !== 'organization_id' && !allowed.has(r.index))).toEqual([]);
  });

  it('references other tenant tables only through foreign keys that include organization_id', async () => {
    const tables = await tenantTables();
    const { rows } = await admin.query<{ name: string; source: string; target: string; columns: string[] }>(
      `SELECT con.conname AS name, src.relname AS source, tgt.relname AS target,
              array(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = ANY(con.conkey)) AS columns
         FROM pg_constraint con JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class tgt ON tgt.oid = con.confrelid
        WHERE con.contype = 'f' AND src.relname = ANY($1) AND tgt.relname = ANY($1)`,
      [tables],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => !r.columns.includes('organization_id')).map((r) => r.name)).toEqual([]);
  });
});

describe('the audit log', () => {
  it('is append-only for the runtime role: INSERT and SELECT granted, never UPDATE, DELETE or TRUNCATE, and policies refuse them too', async () => {
    const { rows } = await admin.query<{ privilege: string; granted: boolean }>(
      `SELECT p AS privilege, has_table_privilege('tenantgate_runtime', 'public.audit_log', p) AS granted
         FROM unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p ORDER BY 1`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.privilege, r.granted]))).toEqual({
      DELETE: false, INSERT: true, REFERENCES: false, SELECT: true, TRIGGER: false, TRUNCATE: false, UPDATE: false,
    });
    // No column-level UPDATE either.
    const columns = await admin.query(`SELECT 1 FROM information_schema.column_privileges WHERE table_name = 'audit_log' AND privilege_type = 'UPDATE' AND grantee = 'tenantgate_runtime'`);
    expect(columns.rowCount).toBe(0);
    const policies = await admin.query<{ policyname: string; cmd: string; permissive: string; qual: string | null }>(
      `SELECT policyname, cmd, permissive, qual FROM pg_policies WHERE tablename = 'audit_log' AND permissive = 'RESTRICTIVE' AND cmd IN ('UPDATE', 'DELETE') ORDER BY cmd`,
    );
    expect(policies.rows).toEqual([
      { policyname: 'audit_log_no_delete', cmd: 'DELETE', permissive: 'RESTRICTIVE', qual: 'false' },
      { policyname: 'audit_log_no_update', cmd: 'UPDATE', permissive: 'RESTRICTIVE', qual: 'false' },
    ]);
  });

  // It reads its own organization's events (the events policy), and never changes one.
  it('the outbox is append-only for the runtime role', async () => {
    const { rows } = await admin.query<{ privilege: string; granted: boolean }>(
      `SELECT p AS privilege, has_table_privilege('tenantgate_runtime', 'public.events', p) AS granted FROM unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p ORDER BY 1`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.privilege, r.granted]))).toEqual({ DELETE: false, INSERT: true, SELECT: true, UPDATE: false });
  });
});

describe('the helper functions', () => {
  it('are STABLE and read the setting through nullif, so an empty setting is "no organization"', async () => {
    const { rows } = await admin.query<{ name: string; volatile: string; src: string }>(
      `SELECT proname AS name, provolatile AS volatile, prosrc AS src FROM pg_proc WHERE pronamespace = 'app'::regnamespace AND proname LIKE 'current\\_%' ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(['current_department_path', 'current_member_role', 'current_org_id', 'current_user_id']);
    for (const fn of rows) {
      expect(fn.volatile).toBe('s');
      expect(fn.src).toMatch(/nullif\(current_setting\('app\.[a-z_]+', true\), ''\)/);
    }
  });

  it('SECURITY DEFINER functions pin their search_path and are not executable by PUBLIC', async () => {
    const { rows } = await admin.query<{ name: string; config: string[] | null; public_can: boolean }>(
      `SELECT proname AS name, proconfig AS config, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can
         FROM pg_proc p WHERE pronamespace = 'app'::regnamespace AND prosecdef ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      'confirm_domain_email',
      'create_signup_organization',
      'domain_events',
      'emit_row_events',
      'ensure_signed_in_user',
      'ensure_user',
      'files_track_storage',
      'invitation_by_token',
      'invoice_events',
      'is_platform_operator',
      'membership_events',
      'migration_version',
      'my_organizations',
      'organization_events',
      'organization_secret_events',
      'quota_override_events',
      'quota_usage',
      'record_usage',
      'share',
      'share_grants_sync',
      'shareable_drop_grants',
      'subscription_events',
      'subscription_history_record',
      'unshare',
      'verified_domain_owner',
      'webhook_endpoint_events',
    ]);
    for (const fn of rows) {
      expect(fn.config).toEqual(expect.arrayContaining([expect.stringMatching(/^search_path=/)]));
      expect(fn.public_can).toBe(false);
    }
  });
});

describe('the access check, app.request_access()', () => {
  it('plans its query once per connection: a generic plan is forced, whatever its arguments (the role it sets is tested through departments and request-transaction)', async () => {
    const { rows } = await admin.query<{ config: string[] | null }>(
      `SELECT proconfig AS config FROM pg_proc WHERE pronamespace = 'app'::regnamespace AND proname = 'request_access'`,
    );
    expect(rows).toEqual([{ config: ['plan_cache_mode=force_generic_plan'] }]);
  });
});

describe('the runtime role', () => {
  it('is not superuser, has no BYPASSRLS and owns no table', async () => {
    const { user } = parseCredentials(testUrls().runtimeUrl);
    const { rows } = await admin.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, [user]);
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    const owned = await admin.query(`SELECT 1 FROM pg_tables WHERE tableowner = $1`, [user]);
    expect(owned.rowCount).toBe(0);
  });

  it('passes the start-up check, which refuses a superuser and a table owner', async () => {
    const runtime = new pg.Pool({ connectionString: testUrls().runtimeUrl, max: 1 });
    const superuser = new pg.Pool({ connectionString: testUrls().adminUrl, max: 1 });
    try {
      await expect(assertRuntimeRole(runtime)).resolves.toBeUndefined();
      await expect(assertRuntimeRole(superuser)).rejects.toThrow(/would bypass row-level security because it is a superuser/);
    } finally {
      await runtime.end();
      await superuser.end();
    }
  });

  it('refuses a role that owns a table, even without superuser or BYPASSRLS', async () => {
    // A role of this run only, dropped at the end: suites running at once never share it.
    const role = `${new URL(testUrls().adminUrl).pathname.slice(1)}_owner`;
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}' NOSUPERUSER NOBYPASSRLS`);
    await admin.query('CREATE TABLE owned_by_test_owner (id int)');
    await admin.query(`ALTER TABLE owned_by_test_owner OWNER TO ${role}`);
    const url = new URL(testUrls().adminUrl);
    url.username = role;
    url.password = role;
    const owner = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      await expect(assertRuntimeRole(owner)).rejects.toThrow(
        'would bypass row-level security because it owns public.owned_by_test_owner',
      );
    } finally {
      await owner.end();
      await admin.query('DROP TABLE owned_by_test_owner');
      await admin.query(`DROP ROLE ${role}`);
    }
  });
});

describe('the database refusals the gateway explains (src/db/database-errors.ts)', () => {
  const entries = Object.entries(REFUSALS);

  it.each(entries.filter(([, r]) => r.constraint !== null).map(([name, r]) => [name, r.constraint!, r.sqlState]))(
    '%s: %s exists, as a constraint or index of the kind its SQLSTATE %s needs',
    async (_, constraint, sqlState) => {
      const { rows } = await admin.query<{ kind: string }>(
        `SELECT contype::text AS kind FROM pg_constraint WHERE conname = $1 AND connamespace = 'public'::regnamespace
         UNION ALL
         SELECT 'unique index' FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace AND i.indisunique`,
        [constraint],
      );
      const kinds = rows.map((r) => r.kind);
      // 23505: a unique or primary-key constraint, or a unique index; 23503: a foreign key.
      if (sqlState === '23505') expect(kinds.some((k) => ['u', 'p', 'unique index'].includes(k))).toBe(true);
      else if (sqlState === '23503') expect(kinds).toContain('f');
      else throw new Error(`no catalog rule for SQLSTATE ${sqlState}`);
    },
  );

  it.each(entries.filter(([, r]) => /^TG/.test(r.sqlState)).map(([name, r]) => [name, r.sqlState]))(
    '%s: a function of the app schema raises SQLSTATE %s',
    async (_, sqlState) => {
      const { rows } = await admin.query<{ proname: string }>(
        `SELECT proname FROM pg_proc WHERE pronamespace = 'app'::regnamespace AND prosrc LIKE '%' || $1 || '%'`,
        [`ERRCODE = '${sqlState}'`],
      );
      expect(rows).toHaveLength(1);
    },
  );
});
