import type pg from 'pg';
import { ORGANIZATION_COLUMN, ORGANIZATION_FIELD, describeRefusals, type Tenancy, type TenantModel } from './model';

/**
 * What PostgreSQL's catalog says about the application's tables, checked
 * against the rules that make isolation hold (the same ones as
 * test/catalog.test.ts), and the SQL that adds what a tenant table lacks.
 *
 * `problems` make the gateway refuse to start: a table with organization_id that
 * is not under forced RLS with organization-scoped policies, a tenant table whose
 * primary key or foreign keys do not lead with organization_id, a table that is
 * neither a tenant table nor declared global. `fixes` are what
 * `npm run tenancy:migration` writes.
 *
 * The schemas are tenantgate's own (every table there is checked) and the
 * application's (public, docs/adr/0090-own-schema.md), which may hold tables that
 * are not the gateway's at all, such as the application's own `users`: a table
 * there that no model names and that tenantgate_runtime cannot read or write is
 * `outside`, and not checked. Granting it to the runtime role makes it the
 * gateway's business, and checked.
 */

/** The group role that the runtime login role is a member of (src/db/migrate.ts). */
const RUNTIME_GROUP_ROLE = 'tenantgate_runtime';

/** Tables the runner owns, in any application schema. */
const RUNNER_TABLES = new Set(['_prisma_migrations']);

/** A table declared global in SQL (a table Prisma does not model): `COMMENT ON TABLE t IS '@global: <reason>'`. */
const GLOBAL_COMMENT = /^@global:\s*\S/;

interface Policy {
  name: string;
  permissive: boolean;
  cmd: '*' | 'r' | 'a' | 'w' | 'd';
  using: string | null;
  check: string | null;
}

export interface TableCatalog {
  schema: string;
  table: string;
  rls: boolean;
  force: boolean;
  comment: string | null;
  hasOrganization: boolean;
  organizationDefault: string | null;
  primaryKey: { name: string; columns: string[] } | null;
  foreignKeys: { name: string; columns: string[]; target: string; targetSchema: string; targetHasOrganization: boolean }[];
  indexes: { name: string; columns: string[] }[];
  policies: Policy[];
  /** Whether tenantgate_runtime has any privilege on the table (false when the role does not exist). */
  runtimeGranted: boolean;
}

export async function readCatalog(client: Pick<pg.ClientBase, 'query'>, schemas: string[]): Promise<TableCatalog[]> {
  const { rows } = await client.query<TableCatalog>(
    `WITH cols AS (
       SELECT attrelid, attnum, attname FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped
     )
     SELECT n.nspname AS schema, c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
            obj_description(c.oid, 'pg_class') AS comment,
            EXISTS (SELECT 1 FROM cols WHERE attrelid = c.oid AND attname = $2) AS "hasOrganization",
            (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN cols a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
              WHERE d.adrelid = c.oid AND a.attname = $2) AS "organizationDefault",
            (SELECT json_build_object('name', con.conname, 'columns',
                      array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) JOIN cols a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord))
               FROM pg_constraint con WHERE con.conrelid = c.oid AND con.contype = 'p') AS "primaryKey",
            coalesce((SELECT json_agg(json_build_object(
                        'name', con.conname, 'target', t.relname, 'targetSchema', tn.nspname,
                        'targetHasOrganization', EXISTS (SELECT 1 FROM cols WHERE attrelid = t.oid AND attname = $2),
                        'columns', array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) JOIN cols a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord))
                        ORDER BY con.conname)
               FROM pg_constraint con JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
              WHERE con.conrelid = c.oid AND con.contype = 'f'), '[]') AS "foreignKeys",
            coalesce((SELECT json_agg(json_build_object('name', ic.relname, 'columns',
                        array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) JOIN cols a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord))
                        ORDER BY ic.relname)
               FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '[]') AS indexes,
            coalesce((SELECT json_agg(json_build_object('name', p.polname, 'permissive', p.polpermissive, 'cmd', p.polcmd,
                        'using', pg_get_expr(p.polqual, p.polrelid), 'check', pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname)
               FROM pg_policy p WHERE p.polrelid = c.oid), '[]') AS policies,
            EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = $3
                      AND (has_table_privilege(r.oid, c.oid, 'SELECT') OR has_table_privilege(r.oid, c.oid, 'INSERT')
                           OR has_any_column_privilege(r.oid, c.oid, 'SELECT'))) AS "runtimeGranted"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)
      ORDER BY n.nspname, c.relname`,
    [schemas, ORGANIZATION_COLUMN, RUNTIME_GROUP_ROLE],
  );
  return rows;
}

const SCOPED = /\borganization_id = app\.current_org_id\(\)/;
const SUBQUERY = /\bSELECT\b/i;

export interface TableReport {
  table: string;
  kind: 'tenant' | 'global' | 'runner' | 'unknown' | 'outside';
  problems: string[];
  fixes: string[];
}

export interface TenancyReport {
  /** One line per model the reader refused (src/tenancy/model.ts). */
  refused: string[];
  tables: TableReport[];
  /** Tenant models whose table the catalog does not have (yet). */
  missingTables: string[];
}

export function hasProblems(report: TenancyReport): boolean {
  return report.refused.length > 0 || report.tables.some((t) => t.problems.length > 0);
}

/** One line per problem, naming the table: what `tenancy:check` prints and the gateway refuses to start with. */
export function describeProblems(report: TenancyReport): string[] {
  return [
    ...report.refused,
    ...report.tables.flatMap((t) => t.problems.map((p) => `table ${t.table}: ${p}`)),
  ];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
// Always with its schema: the runner's search_path puts tenantgate's schema first, and the application's
// `users` may sit beside tenantgate's (docs/adr/0090-own-schema.md).
const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;
const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);
const startsWith = (columns: string[], prefix: string[]) => prefix.every((c, i) => columns[i] === c);

const ON_DELETE: Record<string, string> = { Cascade: 'CASCADE', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetNull: 'SET NULL', SetDefault: 'SET DEFAULT' };

export function inspect(tenancy: Tenancy, catalog: TableCatalog[]): TenancyReport {
  const tenantByTable = new Map(tenancy.tenant.map((m) => [`${m.schema}.${m.table}`, m]));
  const globalByTable = new Map(tenancy.global.map((m) => [`${m.schema}.${m.table}`, m]));
  const present = new Set(catalog.map((t) => `${t.schema}.${t.table}`));
  // tenantgate's own schema: that of its Organization model (without one, every schema is treated as its own).
  const own = tenancy.global.find((m) => m.name === 'Organization')?.schema;
  const tables = catalog.map((table): TableReport => {
    const key = `${table.schema}.${table.table}`;
    const name = table.schema === 'public' ? table.table : key;
    if (RUNNER_TABLES.has(table.table)) return { table: name, kind: 'runner', problems: [], fixes: [] };
    const model = tenantByTable.get(key);
    if (own && table.schema !== own && !model && !globalByTable.has(key) && !table.runtimeGranted) {
      return { table: name, kind: 'outside', problems: [], fixes: [] };
    }
    if (table.hasOrganization) {
      const report = { table: name, kind: 'tenant' as const, problems: tenantProblems(table), fixes: model ? tenantFixes(table, model) : [] };
      if (globalByTable.has(key)) report.problems.push(`has an ${ORGANIZATION_COLUMN} column but its model is declared @global`);
      return report;
    }
    if (model) return { table: name, kind: 'tenant', problems: [`its model ${model.name} has organizationId but the table has no ${ORGANIZATION_COLUMN} column`], fixes: [] };
    if (globalByTable.has(key) || GLOBAL_COMMENT.test(table.comment ?? '')) return { table: name, kind: 'global', problems: [], fixes: [] };
    return {
      table: name,
      kind: 'unknown',
      problems: [
        `is neither a tenant table (no ${ORGANIZATION_COLUMN} column) nor declared global: add organizationId to its model, or declare the model \`/// @global: <reason>\` (a table without a model: COMMENT ON TABLE ${qualified(table.schema, table.table)} IS '@global: <reason>')`,
      ],
      fixes: [],
    };
  });
  return {
    refused: describeRefusals(tenancy.refused),
    tables,
    missingTables: tenancy.tenant.filter((m) => !present.has(`${m.schema}.${m.table}`)).map((m) => m.table),
  };
}

function tenantProblems(table: TableCatalog): string[] {
  const problems: string[] = [];
  if (!table.rls) problems.push('row-level security is not enabled (ENABLE ROW LEVEL SECURITY)');
  if (!table.force) problems.push("row-level security is not forced (FORCE ROW LEVEL SECURITY): the table's owner would bypass it");
  const permissive = table.policies.filter((p) => p.permissive);
  if (permissive.length === 0) problems.push(`no permissive policy comparing ${ORGANIZATION_COLUMN} with app.current_org_id()`);
  for (const policy of table.policies) {
    if (SUBQUERY.test(`${policy.using ?? ''} ${policy.check ?? ''}`)) problems.push(`policy ${policy.name} has a subquery`);
    // A restrictive policy is ANDed with the others: it can hide rows, never reveal them.
    if (!policy.permissive) continue;
    if (policy.cmd !== 'a' && !SCOPED.test(policy.using ?? '')) problems.push(`policy ${policy.name}'s USING does not compare ${ORGANIZATION_COLUMN} with app.current_org_id()`);
    // Without WITH CHECK, PostgreSQL checks new rows with USING.
    if (policy.cmd !== 'r' && policy.cmd !== 'd' && !SCOPED.test(policy.check ?? policy.using ?? '')) {
      problems.push(`policy ${policy.name}'s WITH CHECK does not compare ${ORGANIZATION_COLUMN} with app.current_org_id()`);
    }
  }
  if (!table.primaryKey) problems.push(`no primary key (it must lead with ${ORGANIZATION_COLUMN})`);
  else if (table.primaryKey.columns[0] !== ORGANIZATION_COLUMN) problems.push(`primary key (${table.primaryKey.columns.join(', ')}) does not lead with ${ORGANIZATION_COLUMN}`);
  for (const fk of table.foreignKeys) {
    if (fk.targetHasOrganization && !fk.columns.includes(ORGANIZATION_COLUMN)) {
      problems.push(`foreign key ${fk.name} (${fk.columns.join(', ')}) references the tenant table ${fk.target} without ${ORGANIZATION_COLUMN}: a row could reference another organization's row`);
    }
  }
  return problems;
}

/** The SQL that gives a tenant table what tenancy needs, for what it lacks. */
function tenantFixes(table: TableCatalog, model: TenantModel): string[] {
  const t = qualified(table.schema, table.table);
  const fixes: string[] = [];
  // Only where the model declares it (@default(dbgenerated("app.current_org_id()"))): the platform's own
  // tables that the system client writes across organizations name the organization instead.
  const declared = model.model.fields.find((f) => f.name === ORGANIZATION_FIELD)?.default;
  const defaultsToRequest = !!declared && typeof declared === 'object' && 'name' in declared && declared.name === 'dbgenerated';
  if (defaultsToRequest && table.organizationDefault !== 'app.current_org_id()') {
    fixes.push(`ALTER TABLE ${t} ALTER COLUMN ${ident(ORGANIZATION_COLUMN)} SET DEFAULT app.current_org_id();`);
  }
  if (!table.primaryKey || !sameColumns(table.primaryKey.columns, model.primaryKey)) {
    if (table.primaryKey) fixes.push(`ALTER TABLE ${t} DROP CONSTRAINT ${ident(table.primaryKey.name)};`);
    fixes.push(`ALTER TABLE ${t} ADD CONSTRAINT ${ident(`${table.table}_pkey`)} PRIMARY KEY (${model.primaryKey.map(ident).join(', ')});`);
  }
  for (const relation of model.relations) {
    const existing = table.foreignKeys.filter((fk) => fk.target === relation.targetTable && fk.targetSchema === relation.targetSchema);
    const matching = existing.find((fk) => sameColumns([...fk.columns].sort(), [...relation.columns].sort()));
    if (!matching) {
      // A foreign key on the relation's columns without organization_id is replaced by the composite one.
      for (const fk of existing) {
        if (relation.targetIsTenant && !fk.columns.includes(ORGANIZATION_COLUMN) && fk.columns.every((c) => relation.columns.includes(c))) {
          fixes.push(`ALTER TABLE ${t} DROP CONSTRAINT ${ident(fk.name)};`);
        }
      }
      const name = `${table.table}_${relation.columns.join('_')}_fkey`;
      let onDelete = ON_DELETE[relation.onDelete ?? (relation.required ? 'Restrict' : 'SetNull')] ?? 'RESTRICT';
      // SET NULL on a composite key would null organization_id too (NOT NULL): only the relation's own columns.
      if (onDelete === 'SET NULL') onDelete = `SET NULL (${relation.columns.filter((c) => c !== ORGANIZATION_COLUMN).map(ident).join(', ')})`;
      fixes.push(
        `ALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} FOREIGN KEY (${relation.columns.map(ident).join(', ')}) REFERENCES ${qualified(relation.targetSchema, relation.targetTable)} (${relation.targetColumns.map(ident).join(', ')}) ON DELETE ${onDelete} ON UPDATE CASCADE;`,
      );
    }
    // PERF: the join to the parent and the parent's delete look rows up by these columns.
    const wanted = relation.columns.includes(ORGANIZATION_COLUMN)
      ? [ORGANIZATION_COLUMN, ...relation.columns.filter((c) => c !== ORGANIZATION_COLUMN)]
      : relation.columns;
    if (wanted.length > 1 && !table.indexes.some((i) => startsWith(i.columns, wanted)) && !model.indexes.some((i) => startsWith(i.columns, wanted))) {
      fixes.push(`CREATE INDEX ${ident(`${table.table}_${wanted.join('_')}_idx`)} ON ${t} (${wanted.map(ident).join(', ')});`);
    }
  }
  if (!table.rls) fixes.push(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY;`);
  if (!table.force) fixes.push(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY;`);
  if (!table.policies.some((p) => p.permissive)) {
    // The same subquery-free shape as tenantgate's own tables: an index condition, nothing per row.
    fixes.push(
      `CREATE POLICY tenant_isolation ON ${t}\n  USING (${ident(ORGANIZATION_COLUMN)} = app.current_org_id())\n  WITH CHECK (${ident(ORGANIZATION_COLUMN)} = app.current_org_id());`,
    );
  }
  if (model.departmentField && !table.policies.some((p) => p.name === 'department_restriction')) {
    const column = ident(model.columns[model.departmentField]);
    const rule = `${column} IS NULL\n         OR app.current_member_role() IN ('OWNER', 'ADMIN')\n         OR ${column} = ANY (app.current_department_path())`;
    fixes.push(`CREATE POLICY department_restriction ON ${t} AS RESTRICTIVE\n  USING (${rule})\n  WITH CHECK (${rule});`);
  }
  if (!table.runtimeGranted) fixes.push(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${RUNTIME_GROUP_ROLE};`);
  return fixes;
}
