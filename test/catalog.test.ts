import pg from 'pg';
import { testUrls } from './helpers/harness';
import { assertRuntimeRole } from '../src/db/runtime-role';
import { parseCredentials } from '../src/db/migrate';
import { REFUSALS } from '../src/db/database-errors';
import { datamodel } from '../src/generated/tenancy-datamodel';
import { readCatalog, inspect } from '../src/tenancy/catalog';
import { readTenancy } from '../src/tenancy/model';

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

/** The schemas of the tables: tenantgate's own, and the application's models' (Task). */
const TABLE_SCHEMAS = ['public', 'tenantgate'];

async function tenantTables(): Promise<string[]> {
  const { rows } = await admin.query<{ table: string }>(
    `SELECT c.relname AS table
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attname = 'organization_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = ANY($1)
      ORDER BY 1`,
    [TABLE_SCHEMAS],
  );
  return rows.map((r) => r.table);
}

describe('every tenant table', () => {
  it('exists (the check below is not vacuous)', async () => {
    // tenantgate's own and the application's (Task, in public).
    expect(await tenantTables()).toEqual(expect.arrayContaining(['memberships', 'projects', 'tasks']));
  });

  it('has ENABLE and FORCE ROW LEVEL SECURITY', async () => {
    const { rows } = await admin.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) AND relnamespace::regnamespace::text = ANY($2)`,
      [await tenantTables(), TABLE_SCHEMAS],
    );
    const missing = rows.filter((r) => !r.relrowsecurity || !r.relforcerowsecurity).map((r) => r.relname);
    expect(missing).toEqual([]);
  });

  it('has no policy with a subquery: a policy is an index condition, nothing per row', async () => {
    const { rows } = await admin.query<{ table: string; policyname: string }>(
      `SELECT tablename AS table, policyname FROM pg_policies
        WHERE schemaname = ANY($2) AND tablename = ANY($1) AND concat(qual, ' ', with_check) ~* '\\mSELECT\\M'`,
      [await tenantTables(), TABLE_SCHEMAS],
    );
    expect(rows).toEqual([]);
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
      // A global ID names the row, not its organization (migration 20261205150100_shared_pages).
      'projects_id_idx',
      'templates_id_idx',
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
      `SELECT p AS privilege, has_table_privilege('tenantgate_runtime', 'tenantgate.audit_log', p) AS granted
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
      `SELECT p AS privilege, has_table_privilege('tenantgate_runtime', 'tenantgate.events', p) AS granted FROM unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p ORDER BY 1`,
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
      'bump_access_version',
      'confirm_domain_email',
      'create_signup_organization',
      'domain_events',
      'emit_row_events',
      'ensure_signed_in_user',
      'ensure_user',
      'files_track_storage',
      'invitation_by_token',
      'invitation_events',
      'invoice_events',
      'is_platform_operator',
      'membership_events',
      'migration_version',
      'my_organizations',
      'organization_events',
      'organization_secret_events',
      'quota_override_events',
      'quota_usage',
      'record_access_denials',
      'record_usage',
      'row_owners',
      'share',
      'share_grants_sync',
      'shareable_drop_grants',
      'shared_row_keys',
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
    await admin.query('CREATE TABLE public.owned_by_test_owner (id int)');
    await admin.query(`ALTER TABLE public.owned_by_test_owner OWNER TO ${role}`);
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
      await admin.query('DROP TABLE public.owned_by_test_owner');
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
        `SELECT contype::text AS kind FROM pg_constraint WHERE conname = $1 AND connamespace::regnamespace::text = ANY($2)
         UNION ALL
         SELECT 'unique index' FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace::regnamespace::text = ANY($2) AND i.indisunique`,
        [constraint, TABLE_SCHEMAS],
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

/**
 * The schemas that hold the application's tables: tenantgate's own tables (tenantgate), its
 * functions and their registry (app), and the application's models (public: Task).
 */
const APPLICATION_SCHEMAS = ['app', 'public', 'tenantgate'];

/**
 * Every global table, with the reason it is global. A table without
 * organization_id is readable by every organization that the runtime role's
 * grants let read it: a new one fails here until it is listed, with the reason
 * its declaration gives (`/// @global:` on the model, or COMMENT ON TABLE).
 */
const GLOBAL_TABLES: Record<string, string> = {
  'app.shareable_tables': 'the registry of shareable tables and the columns a WRITE grant may change, the same for every organization',
  'tenantgate.add_ons': 'the add-on catalog is the same for every organization.',
  'tenantgate.audit_retention': 'platform data, how long each plan keeps its audit log',
  'tenantgate.organizations': "the tenant itself; its own policy compares id with the request's organization.",
  'tenantgate.plan_limits': 'plans are the same for every organization.',
  'tenantgate.plan_operation_limits': 'platform data, the operation limits of each plan (like plan_limits).',
  'tenantgate.plan_prices': 'prices are the same for every organization.',
  'tenantgate.plan_upload_limits': 'platform data, the largest upload of each plan.',
  'tenantgate.platform_audit_log': "the platform's own log, written and read by the system client.",
  'tenantgate.platform_operators': "the platform's operators, read by the system client only.",
  'tenantgate.platform_security_log': "the platform's own log of cross-organization attempts, read by platform operators only",
  'tenantgate.security_alert_windows': "the platform's alert rate limit per actor and reason, written only by app.record_access_denials()",
  'tenantgate.users': 'one identity across organizations; a policy shows the members of the current one.',
};
/** Tables of the migration runner (Prisma's format). */
const RUNNER_TABLES = ['tenantgate._prisma_migrations'];

describe('every table of the application schemas', () => {
  it('the application schemas are app, public and tenantgate, and hold every model', async () => {
    const { rows } = await admin.query<{ schema: string }>(
      // graphile_worker is the job queue's own schema (src/events/), created by its migrations when a worker starts.
      `SELECT nspname AS schema FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'graphile_worker') ORDER BY 1`,
    );
    expect(rows.map((r) => r.schema)).toEqual(APPLICATION_SCHEMAS);
    expect(readTenancy(datamodel).schemas.every((s) => APPLICATION_SCHEMAS.includes(s))).toBe(true);
  });

  it('is a tenant table (organization_id), a listed global table whose declared reason is the one listed, or the runner\'s', async () => {
    const tenancy = readTenancy(datamodel);
    const declaredByModel = new Map(tenancy.global.map((m) => [`${m.schema}.${m.table}`, m.reason]));
    const { rows } = await admin.query<{ table: string; tenant: boolean; comment: string | null }>(
      `SELECT n.nspname || '.' || c.relname AS table, obj_description(c.oid, 'pg_class') AS comment,
              EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attname = 'organization_id' AND NOT attisdropped) AS tenant
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND n.nspname = ANY($1) ORDER BY 1`,
      [APPLICATION_SCHEMAS],
    );
    const global = rows.filter((r) => !r.tenant && !RUNNER_TABLES.includes(r.table));
    // The reason as declared: the model's doc comment, else the table's comment.
    const declared = Object.fromEntries(global.map((r) => [r.table, declaredByModel.get(r.table) ?? /^@global:\s*(.*)$/s.exec(r.comment ?? '')?.[1] ?? '(not declared global)']));
    expect(declared).toEqual(GLOBAL_TABLES);
    // Not vacuous: the tenant tables are most of them.
    expect(rows.filter((r) => r.tenant).length).toBeGreaterThan(20);
    expect(rows.filter((r) => RUNNER_TABLES.includes(r.table)).map((r) => r.table)).toEqual(RUNNER_TABLES);
  });
});

/**
 * Every policy's expressions, exactly as PostgreSQL deparses them
 * (pg_policies.qual / with_check, whitespace collapsed): a policy that is
 * "almost" right (an OR too many, the wrong setting) is as wrong as a missing
 * one. The expected expressions come from one table of policy kinds.
 */
const ORG = '(organization_id = app.current_org_id())';
const OWNERS_AND_ADMINS = "(app.current_member_role() = ANY (ARRAY['OWNER'::text, 'ADMIN'::text]))";
const departmentRule = (column: string) => `((${column} IS NULL) OR ${OWNERS_AND_ADMINS} OR (${column} = ANY (app.current_department_path())))`;
const sharedWith = (column: string) => `((visibility <> 'PRIVATE'::"Visibility") AND (${column} @> ARRAY[app.current_org_id()]))`;
const SHARED_READ = `((organization_id = app.current_org_id()) OR ${sharedWith('shared_read_org_ids')} OR ((visibility = 'PUBLIC'::"Visibility") AND (app.current_org_id() IS NOT NULL)))`;
const SHARED_WRITE = `((organization_id = app.current_org_id()) OR ${sharedWith('shared_write_org_ids')})`;

interface PolicyRow { table: string; name: string; permissive: 'PERMISSIVE' | 'RESTRICTIVE'; cmd: string; roles: string; qual: string | null; with_check: string | null }
type Policy = Omit<PolicyRow, 'table'>;

const POLICY_KINDS = {
  /** Every tenant table: its rows are the current organization's (what tenancy:migration writes). */
  tenantIsolation: (): Policy => ({ name: 'tenant_isolation', permissive: 'PERMISSIVE', cmd: 'ALL', roles: '{public}', qual: ORG, with_check: ORG }),
  /** A row restricted to a department and its sub-departments, for members (what tenancy:migration writes). */
  departmentRestriction: (column: string): Policy => ({ name: 'department_restriction', permissive: 'RESTRICTIVE', cmd: 'ALL', roles: '{public}', qual: departmentRule(column), with_check: departmentRule(column) }),
  /** Narrows one command to owners and admins. */
  ownersAndAdmins: (name: string, cmd: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'): Policy => ({
    name, permissive: 'RESTRICTIVE', cmd, roles: '{public}',
    qual: cmd === 'INSERT' ? null : OWNERS_AND_ADMINS, with_check: cmd === 'INSERT' ? OWNERS_AND_ADMINS : null,
  }),
  /** Refuses one command to everyone (append-only tables). */
  refused: (name: string, cmd: 'UPDATE' | 'DELETE'): Policy => ({ name, permissive: 'RESTRICTIVE', cmd, roles: '{public}', qual: 'false', with_check: cmd === 'UPDATE' ? 'false' : null }),
  /** A shareable table (sharing, ADR in docs/guides): read by the organizations it is shared with, and all when PUBLIC. */
  sharedRead: (): Policy => ({ name: 'shared_read', permissive: 'PERMISSIVE', cmd: 'SELECT', roles: '{public}', qual: SHARED_READ, with_check: null }),
  sharedWrite: (): Policy => ({ name: 'shared_write', permissive: 'PERMISSIVE', cmd: 'UPDATE', roles: '{public}', qual: SHARED_WRITE, with_check: SHARED_WRITE }),
};

/** The policies of each tenant table besides tenant_isolation, which every one has. */
const TENANT_POLICIES: Record<string, Policy[]> = {
  audit_log: [POLICY_KINDS.refused('audit_log_no_delete', 'DELETE'), POLICY_KINDS.refused('audit_log_no_update', 'UPDATE'), POLICY_KINDS.ownersAndAdmins('audit_log_readers', 'SELECT')],
  invoice_line_items: [POLICY_KINDS.ownersAndAdmins('billing_roles', 'SELECT')],
  invoices: [POLICY_KINDS.ownersAndAdmins('billing_roles', 'SELECT')],
  projects: [POLICY_KINDS.departmentRestriction('restricted_to_department_id'), POLICY_KINDS.sharedRead(), POLICY_KINDS.sharedWrite()],
  subscription_history: [POLICY_KINDS.ownersAndAdmins('billing_roles', 'SELECT')],
  share_grants: [
    POLICY_KINDS.ownersAndAdmins('owners_and_admins_grant', 'INSERT'),
    POLICY_KINDS.ownersAndAdmins('owners_and_admins_revoke', 'DELETE'),
    POLICY_KINDS.ownersAndAdmins('owners_and_admins_update', 'UPDATE'),
  ],
  templates: [POLICY_KINDS.sharedRead(), POLICY_KINDS.sharedWrite()],
};

/** The two global tables with a policy: the tenant itself, and the users of its members. */
const GLOBAL_POLICIES: Record<string, Policy[]> = {
  organizations: [{ name: 'tenant_isolation', permissive: 'PERMISSIVE', cmd: 'ALL', roles: '{public}', qual: '(id = app.current_org_id())', with_check: '(id = app.current_org_id())' }],
  // The one subquery, on a global table: a user is visible when a membership of the current organization (RLS on memberships) names them.
  users: [{ name: 'member_visibility', permissive: 'PERMISSIVE', cmd: 'SELECT', roles: '{public}', qual: '((id = app.current_user_id()) OR (EXISTS ( SELECT 1 FROM memberships m WHERE (m.user_id = users.id))))', with_check: null }],
};

const normalized = (expression: string | null) => (expression === null ? null : expression.replace(/\s+/g, ' '));

async function policies(client: pg.Client, schemas: string[], tables?: string[]): Promise<PolicyRow[]> {
  const { rows } = await client.query<PolicyRow>(
    `SELECT tablename AS table, policyname AS name, permissive, cmd, roles::text AS roles, qual, with_check
       FROM pg_policies WHERE schemaname = ANY($1) AND ($2::text[] IS NULL OR tablename = ANY($2)) ORDER BY tablename, policyname`,
    [schemas, tables ?? null],
  );
  return rows.map((r) => ({ ...r, qual: normalized(r.qual), with_check: normalized(r.with_check) }));
}

describe('every policy', () => {
  it('is the one its kind says, expression for expression; a table has no policy that is not listed', async () => {
    const expected = [
      ...(await tenantTables()).flatMap((table) => [POLICY_KINDS.tenantIsolation(), ...(TENANT_POLICIES[table] ?? [])].map((p) => ({ table, ...p }))),
      ...Object.entries(GLOBAL_POLICIES).flatMap(([table, list]) => list.map((p) => ({ table, ...p }))),
    ].sort((a, b) => a.table.localeCompare(b.table) || a.name.localeCompare(b.name));
    expect(await policies(admin, APPLICATION_SCHEMAS)).toEqual(expected);
  });

  it('of a tenant model is what `npm run tenancy:migration` writes for it: its SQL, applied to a copy of each table, gives the same expressions', async () => {
    const tenancy = readTenancy(datamodel);
    expect(tenancy.tenant.length).toBeGreaterThan(10);
    // Copies without policies, in a transaction rolled back: the suite's tables are untouched.
    const probe = (table: string) => `probe_${table}`.slice(0, 63);
    await admin.query('BEGIN');
    try {
      for (const model of tenancy.tenant) await admin.query(`CREATE TABLE public.${probe(model.table)} (LIKE ${model.schema}.${model.table})`);
      const copies = tenancy.tenant.map((model) => ({ ...model, schema: 'public', table: probe(model.table) }));
      const report = inspect({ ...tenancy, tenant: copies, global: [] }, await readCatalog(admin, ['public']));
      for (const model of copies) {
        const fixes = report.tables.find((t) => t.table === model.table)!.fixes;
        for (const sql of fixes.filter((f) => f.startsWith('CREATE POLICY'))) await admin.query(sql);
      }
      const generated = await policies(admin, ['public'], copies.map((m) => m.table));
      const expected = tenancy.tenant.flatMap((model) => [
        { table: probe(model.table), ...POLICY_KINDS.tenantIsolation() },
        ...(model.departmentField ? [{ table: probe(model.table), ...POLICY_KINDS.departmentRestriction(model.columns[model.departmentField]) }] : []),
      ]).sort((a, b) => a.table.localeCompare(b.table) || a.name.localeCompare(b.name));
      expect(generated).toEqual(expected);
      // Not vacuous: one model at least is restricted by department.
      expect(expected.some((p) => p.name === 'department_restriction')).toBe(true);
    } finally {
      await admin.query('ROLLBACK');
    }
  });
});

/**
 * What the runtime role may do, effective (its own grants, its group
 * tenantgate_runtime's, and PUBLIC's), as a reviewed list: a new grant fails
 * here until it is added on purpose. One line per object: the table's
 * privileges, then column privileges where the table-wide one is not granted.
 */
const RUNTIME_GRANTS: string[] = [
  'table app.shareable_tables: SELECT',
  'table public.tasks: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.access_versions: SELECT',
  'table tenantgate.add_ons: SELECT',
  'table tenantgate.audit_log: INSERT, SELECT',
  'table tenantgate.audit_retention: SELECT',
  'table tenantgate.deliveries: SELECT, UPDATE (requeued_at, updated_at)',
  'table tenantgate.departments: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.events: INSERT, SELECT',
  'table tenantgate.files: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.invitations: INSERT (created_at, department_id, email, expires_at, id, inviter_id, organization_id, role, sent_at, status, token_hash), SELECT, UPDATE (department_id, expires_at, responded_at, role, sent_at, status, token_hash)',
  'table tenantgate.invoice_line_items: SELECT',
  'table tenantgate.invoices: SELECT',
  'table tenantgate.memberships: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.organization_domains: DELETE, INSERT (domain), SELECT, UPDATE (attempts, attempts_window_start, email_sent_to, email_token_hash, join_role, joining, last_checked_at, proof_lost_at, token_expires_at, verification_token, verified, verified_at, verified_method)',
  'table tenantgate.organization_secrets: DELETE, INSERT (masked, name, organization_id, updated_at, value), SELECT (masked, name, organization_id, updated_at), UPDATE (masked, updated_at, value)',
  'table tenantgate.organizations: SELECT, UPDATE (name, settings, updated_at)',
  'table tenantgate.plan_limits: SELECT',
  'table tenantgate.plan_operation_limits: SELECT',
  'table tenantgate.plan_prices: SELECT',
  'table tenantgate.plan_upload_limits: SELECT',
  'table tenantgate.projects: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.quota_overrides: SELECT',
  'table tenantgate.share_grants: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.storage_usage: SELECT',
  'table tenantgate.subscription_history: SELECT',
  'table tenantgate.subscriptions: SELECT, UPDATE (add_ons, plan, seats, updated_at)',
  'table tenantgate.templates: DELETE, INSERT, SELECT, UPDATE',
  'table tenantgate.usage_active_users: SELECT',
  'table tenantgate.usage_daily: SELECT',
  'table tenantgate.users: SELECT',
  'table tenantgate.webhook_endpoints: DELETE, INSERT, SELECT (created_at, description, disabled_reason, enabled, event_types, failing_since, id, organization_id, updated_at, url), UPDATE (description, disabled_reason, enabled, event_types, failing_since, secret, updated_at, url)',
  'function app.confirm_domain_email(text) SECURITY DEFINER',
  'function app.create_signup_organization(text,text) SECURITY DEFINER',
  'function app.current_department_path()',
  'function app.current_member_role()',
  'function app.current_org_id()',
  'function app.current_user_id()',
  'function app.denial_severity(text)',
  'function app.departments_no_cycle()',
  'function app.ensure_signed_in_user(text,text) SECURITY DEFINER',
  'function app.ensure_user(text,text) SECURITY DEFINER',
  'function app.event_row(jsonb,text[])',
  'function app.invitation_by_token(text) SECURITY DEFINER',
  'function app.is_platform_operator(uuid) SECURITY DEFINER',
  'function app.memberships_keep_owner()',
  'function app.migration_version() SECURITY DEFINER',
  'function app.my_organizations() SECURITY DEFINER',
  'function app.quota_usage("QuotaResource") SECURITY DEFINER',
  'function app.record_access_denials(jsonb) SECURITY DEFINER',
  'function app.record_event(uuid,text,text,text,jsonb,boolean)',
  'function app.record_usage(jsonb) SECURITY DEFINER',
  'function app.request_access(uuid,boolean,boolean,boolean,date,date)',
  'function app.row_owners(text,uuid[]) SECURITY DEFINER',
  'function app.share(text,uuid,text[],boolean) SECURITY DEFINER',
  'function app.shareable_guard()',
  'function app.shared_row_keys(text) SECURITY DEFINER',
  'function app.unshare(text,uuid,text[]) SECURITY DEFINER',
  'function app.verified_domain_owner(text) SECURITY DEFINER',
  'schema app: USAGE',
  'schema public: USAGE',
  'schema tenantgate: USAGE',
];

describe('the runtime role\'s grants', () => {
  it('are exactly the reviewed list: tables (and columns), functions it may EXECUTE, schemas it may use', async () => {
    const { user } = parseCredentials(testUrls().runtimeUrl);
    const tables = await admin.query<{ line: string }>(
      `WITH t AS (
         SELECT c.oid, n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname = ANY($2)
       ), p AS (
         SELECT t.name, priv,
                has_table_privilege($1, t.oid, priv) AS whole,
                (SELECT string_agg(a.attname, ', ' ORDER BY a.attname) FROM pg_attribute a
                  WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                    AND has_column_privilege($1, t.oid, a.attnum, priv)) AS columns
           FROM t CROSS JOIN unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) priv
       )
       SELECT 'table ' || name || ': ' || string_agg(CASE WHEN whole THEN priv ELSE priv || ' (' || columns || ')' END, ', ' ORDER BY priv) AS line
         FROM p WHERE whole OR columns IS NOT NULL GROUP BY name ORDER BY name`,
      [user, APPLICATION_SCHEMAS],
    );
    const functions = await admin.query<{ line: string }>(
      `SELECT 'function ' || p.oid::regprocedure::text || CASE WHEN p.prosecdef THEN ' SECURITY DEFINER' ELSE '' END AS line
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($2) AND has_function_privilege($1, p.oid, 'EXECUTE') ORDER BY 1`,
      [user, APPLICATION_SCHEMAS],
    );
    const schemas = await admin.query<{ line: string }>(
      `SELECT 'schema ' || nspname || ': ' || concat_ws(', ', CASE WHEN has_schema_privilege($1, oid, 'USAGE') THEN 'USAGE' END, CASE WHEN has_schema_privilege($1, oid, 'CREATE') THEN 'CREATE' END) AS line
         FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'graphile_worker') ORDER BY nspname`,
      [user],
    );
    expect([...tables.rows, ...functions.rows, ...schemas.rows].map((r) => r.line)).toEqual(RUNTIME_GRANTS);
  });

  it('come only through the group role: the login role is a member of tenantgate_runtime and of nothing else, and has no grant of its own', async () => {
    const { user } = parseCredentials(testUrls().runtimeUrl);
    const { rows } = await admin.query<{ role: string }>(
      `SELECT g.rolname AS role FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
      [user],
    );
    expect(rows).toEqual([{ role: 'tenantgate_runtime' }]);
    const own = await admin.query(
      `SELECT 1 FROM information_schema.role_table_grants WHERE grantee = $1
       UNION ALL SELECT 1 FROM information_schema.column_privileges WHERE grantee = $1
       UNION ALL SELECT 1 FROM information_schema.role_routine_grants WHERE grantee = $1`,
      [user],
    );
    expect(own.rowCount).toBe(0);
  });
});
