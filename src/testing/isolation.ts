import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { datamodel as schemaDatamodel } from '../generated/tenancy-datamodel';
import { builtSchema, withSearchPath } from '../db/schemas';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ORGANIZATION_COLUMN, readTenancy, type TenancyDatamodel, type TenantModel } from '../tenancy/model';
import type { TenantModelSurface } from '../tenancy/tenant-model';

/**
 * Isolation, proven on the database for every tenant model of the schema: found
 * from the DMMF, so a model added tomorrow is covered without a test of its own.
 *
 * For each model, rows are made for two organizations through the admin
 * connection (parents included, from the model's relations), then, as the
 * runtime role in organization A:
 * - raw SQL sees A's row and none of B's;
 * - UPDATE and DELETE of B's row touch nothing;
 * - an INSERT naming B's organization_id is refused;
 * - a row of A referencing B's parent (each relation to a tenant model) is refused;
 * - where the model opts in to department visibility (restrictedToDepartmentId),
 *   a member outside the department does not see a restricted row, an owner does.
 */

export interface IsolationOptions {
  /** An owner (or BYPASSRLS) connection, to make the rows. */
  adminUrl: string;
  /** The runtime role's connection, the one RLS applies to. */
  runtimeUrl: string;
  /** The schema's datamodel. @default the generated one (prisma/schema.prisma) */
  datamodel?: TenancyDatamodel;
  /**
   * Column values per model where the made-up ones would break a CHECK constraint,
   * e.g. `{ InvoiceLineItem: { kind: 'SEATS' } }`. @default none
   */
  samples?: Record<string, Row>;
  /**
   * Models this suite cannot make rows for, each with the reason and where its
   * isolation is proven instead (a row that must point at a row of another model
   * chosen by a column value). Listed in the suite's output. @default none
   */
  provenElsewhere?: Record<string, string>;
  /**
   * Runs a GraphQL operation as the owner of an organization: with it, the models
   * built with tenantModel are checked through the API too (connection, totalCount,
   * get, node, update, delete). @default none: the database checks only
   */
  graphql?: GraphQLAs;
  /** The models built with tenantModel (their fields). @default none */
  surfaces?: TenantModelSurface[];
}

export type GraphQLAs = (
  as: { organizationId: string; userId: string },
  query: string,
  variables?: Record<string, unknown>,
) => Promise<{ data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] }>;

export interface IsolationCheck {
  model: string;
  check: string;
  /** Null when it held; what was seen otherwise. */
  failure: string | null;
}

interface Org {
  id: string;
  ownerId: string;
}

type Row = Record<string, unknown>;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
// Ids Prisma makes on the client, not the database: the migrations have no default for them.
const CLIENT_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

/** Makes two organizations (each with an owner) through the admin connection. */
async function createOrganizations(admin: pg.Client): Promise<[Org, Org]> {
  const orgs: Org[] = [];
  for (const label of ['a', 'b']) {
    const id = randomUUID();
    const ownerId = randomUUID();
    const slug = `iso-${label}-${id.slice(0, 8)}`;
    await admin.query(`INSERT INTO organizations (id, slug, name, updated_at) VALUES ($1, $2, $3, now())`, [id, slug, `Isolation ${label.toUpperCase()}`]);
    await admin.query(`INSERT INTO users (id, email, name) VALUES ($1, $2, 'Isolation owner')`, [ownerId, `owner-${ownerId}@isolation.test`]);
    await admin.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'OWNER')`, [id, ownerId]);
    orgs.push({ id, ownerId });
  }
  return orgs as [Org, Org];
}

class Fabricator {
  private readonly made = new Map<string, Row>();
  constructor(
    private readonly admin: pg.Client,
    private readonly models: Map<string, TenantModel>,
    private readonly enums: Map<string, string[]>,
    private readonly samples: Record<string, Row> = {},
  ) {}

  /** A row's values for `model` in `org`, parents made (once per organization) as needed; nothing inserted. */
  async values(model: TenantModel, org: Org, overrides: Row = {}): Promise<Row> {
    const row: Row = { [ORGANIZATION_COLUMN]: org.id, ...this.samples[model.name] };
    for (const relation of model.relations) {
      const field = model.model.fields.find((f) => f.name === relation.field)!;
      const own = relation.columns.filter((c) => c !== ORGANIZATION_COLUMN);
      if (!field.isRequired || own.every((c) => c in overrides || c in row)) continue;
      if (relation.target === 'Organization') continue;
      if (relation.target === 'Membership') {
        // The organization's owner: a membership of this organization.
        for (const c of own) row[c] = org.ownerId;
        continue;
      }
      if (relation.target === 'User') {
        // A user of its own: a model keyed by (organization, user) gets a fresh key.
        const id = randomUUID();
        await this.admin.query(`INSERT INTO users (id, email, name) VALUES ($1, $2, 'Isolation user')`, [id, `user-${id}@isolation.test`]);
        for (const c of own) row[c] = id;
        continue;
      }
      const target = this.models.get(relation.target);
      if (!target) throw new Error(`cannot make a ${relation.target} row for ${model.name}.${relation.field}`);
      const parent = await this.row(target, org);
      relation.columns.forEach((c, i) => {
        if (c !== ORGANIZATION_COLUMN) row[c] = parent[relation.targetColumns[i]];
      });
    }
    for (const field of model.model.fields) {
      const column = model.columns[field.name];
      if (field.kind === 'object' || column in row || column in overrides) continue;
      const clientDefault = typeof field.default === 'object' && field.default && 'name' in field.default && CLIENT_DEFAULTS.has(field.default.name);
      if (!(field.isRequired && (!field.hasDefaultValue || clientDefault)) && !field.isUpdatedAt) continue;
      row[column] = this.sample(field.type, field.kind, field.nativeType?.[0], field.isList);
    }
    return { ...row, ...overrides };
  }

  /** One row of `model` in `org`, made once. */
  async row(model: TenantModel, org: Org): Promise<Row> {
    const key = `${model.name}:${org.id}`;
    if (!this.made.has(key)) this.made.set(key, await this.insert(model, await this.values(model, org), org));
    return this.made.get(key)!;
  }

  async insert(model: TenantModel, values: Row, org: Org): Promise<Row> {
    const columns = Object.keys(values);
    const table = qualifiedTable(model);
    const { rows } = await this.admin.query(
      `INSERT INTO ${table} (${columns.map(ident).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING RETURNING *`,
      columns.map((c) => values[c]),
    );
    if (rows[0]) return rows[0];
    // A table keyed by the organization alone (its subscription) already has the row.
    const existing = await this.admin.query(`SELECT * FROM ${table} WHERE ${ident(ORGANIZATION_COLUMN)} = $1 LIMIT 1`, [org.id]);
    return existing.rows[0];
  }

  private sample(type: string, kind: string, native: string | undefined, list: boolean): unknown {
    if (list) return [];
    if (kind === 'enum') return this.enums.get(type)?.[0];
    const n = Math.floor(Math.random() * 1_000_000);
    switch (type) {
      case 'String':
        // Shaped like a host name: lower-case, digits, a dot; it passes the usual CHECK constraints on names.
        return native === 'Uuid' ? randomUUID() : native === 'Char' ? 'ISO' : `iso${n}.example`;
      case 'Int':
      case 'BigInt':
        return n;
      case 'Float':
      case 'Decimal':
        return 1.5;
      case 'Boolean':
        return false;
      case 'DateTime':
        // A random first of a month (billing periods are): tables keyed by (organization, day) get a fresh key.
        return native === 'Date' ? new Date(Date.UTC(2000 + (n % 50), n % 12, 1)) : new Date();
      case 'Json':
        return {};
      default:
        return null;
    }
  }
}

async function enumValues(admin: pg.Client, schema: string): Promise<Map<string, string[]>> {
  // By name; tenantgate's own last, so that an application's enum of the same name (its own "Role") does not shadow it.
  const { rows } = await admin.query<{ name: string; values: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      GROUP BY t.typname, n.nspname ORDER BY n.nspname = $1`,
    [schema],
  );
  return new Map(rows.map((r) => [r.name, r.values]));
}

/** Runs `fn` as the runtime role in `org`'s transaction, rolled back afterwards; a database error is returned, not thrown. */
async function asTenant<T>(runtime: pg.Client, org: Org, scope: { role?: string; departmentPath?: string[] }, fn: () => Promise<T>): Promise<T | { error: string; code: string }> {
  await runtime.query('BEGIN');
  try {
    await runtime.query(
      `SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true),
              set_config('app.current_member_role', $3, true), set_config('app.current_department_path', $4, true)`,
      [org.id, org.ownerId, scope.role ?? 'OWNER', (scope.departmentPath ?? []).join(',')],
    );
    return await fn();
  } catch (error) {
    return { error: (error as Error).message, code: (error as { code?: string }).code ?? '' };
  } finally {
    await runtime.query('ROLLBACK');
  }
}

/** A model's table with its schema (the user's `users` may sit beside tenantgate's). */
const qualifiedTable = (model: TenantModel) => `${ident(model.schema)}.${ident(model.table)}`;

const isError = (value: unknown): value is { error: string; code: string } => !!value && typeof value === 'object' && 'error' in value && 'code' in value;

function keyWhere(model: TenantModel, row: Row, offset = 0): { sql: string; values: unknown[] } {
  return {
    sql: model.primaryKey.map((c, i) => `${ident(c)} = $${i + 1 + offset}`).join(' AND '),
    values: model.primaryKey.map((c) => row[c]),
  };
}

/** The checks, model by model; each names what it saw when it fails. */
export async function checkIsolation(options: IsolationOptions): Promise<IsolationCheck[]> {
  const tenancy = readTenancy(options.datamodel ?? schemaDatamodel);
  // tenantgate's tables through search_path (src/db/schemas.ts); the models' tables by their schema.
  const admin = new pg.Client({ connectionString: withSearchPath(options.adminUrl, builtSchema(options.datamodel ?? schemaDatamodel)) });
  const runtime = new pg.Client({ connectionString: options.runtimeUrl });
  await admin.connect();
  await runtime.connect();
  const results: IsolationCheck[] = [];
  try {
    const [a, b] = await createOrganizations(admin);
    const models = new Map(tenancy.tenant.map((m) => [m.name, m]));
    const make = new Fabricator(admin, models, await enumValues(admin, builtSchema(options.datamodel ?? schemaDatamodel)), options.samples);

    for (const model of tenancy.tenant) {
      if (options.provenElsewhere?.[model.name]) continue;
      const record = (check: string, failure: string | null) => results.push({ model: model.name, check, failure });
      const table = qualifiedTable(model);
      let rowA: Row;
      let rowB: Row;
      try {
        [rowA, rowB] = [await make.row(model, a), await make.row(model, b)];
      } catch (error) {
        record('rows for two organizations can be made', `${(error as Error).message} (give the column a value with the option samples: { ${model.name}: { column: value } })`);
        continue;
      }

      // A shareable model's SHARED and PUBLIC rows are visible across organizations by design
      // (app.make_shareable; test/sharing-sql.test.ts proves who sees them): only PRIVATE rows are checked here.
      const privateOnly = Object.values(model.columns).includes('visibility') ? ` WHERE ${ident('visibility')} = 'PRIVATE'` : '';
      const seen = await asTenant(runtime, a, {}, async () => {
        const { rows } = await runtime.query(`SELECT ${model.primaryKey.map(ident).join(', ')} FROM ${table}${privateOnly}`);
        return rows as Row[];
      });
      if (isError(seen)) record('raw SQL sees its own rows and no other organization\'s', seen.error);
      else {
        const own = seen.some((r) => model.primaryKey.every((c) => String(r[c]) === String(rowA[c])));
        const foreign = seen.filter((r) => r[ORGANIZATION_COLUMN] !== a.id);
        record('raw SQL sees its own rows and no other organization\'s', !own ? 'its own row is not visible' : foreign.length ? `${foreign.length} rows of another organization are visible` : null);
      }

      const byKey = keyWhere(model, rowB);
      const named = await asTenant(runtime, a, {}, async () => (await runtime.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${byKey.sql}`, byKey.values)).rows[0].n as number);
      record("another organization's row by its key is not found", isError(named) ? named.error : named === 0 ? null : 'found');

      for (const [check, sql] of [
        ["UPDATE of another organization's row changes nothing", `UPDATE ${table} SET ${ident(ORGANIZATION_COLUMN)} = ${ident(ORGANIZATION_COLUMN)} WHERE ${byKey.sql}`],
        ["DELETE of another organization's row removes nothing", `DELETE FROM ${table} WHERE ${byKey.sql}`],
      ] as const) {
        const changed = await asTenant(runtime, a, {}, async () => (await runtime.query(sql, byKey.values)).rowCount);
        // No privilege at all (42501) is refusal too.
        record(check, isError(changed) ? (changed.code === '42501' ? null : changed.error) : changed === 0 ? null : `${changed} rows`);
      }

      const refused = async (check: string, values: Row, accepted: string[]) => {
        const columns = Object.keys(values);
        const result = await asTenant(runtime, a, {}, async () =>
          runtime.query(`INSERT INTO ${table} (${columns.map(ident).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => values[c])),
        );
        record(check, isError(result) ? (accepted.includes(result.code) ? null : `refused for another reason: ${result.error}`) : 'accepted');
      };
      await refused("an INSERT naming another organization's id is refused", await make.values(model, b), ['42501']);
      for (const relation of model.relations.filter((r) => r.targetIsTenant && r.target !== 'Organization')) {
        const parent = relation.target === 'Membership' ? { user_id: b.ownerId, organization_id: b.id } : await make.row(models.get(relation.target)!, b);
        const pointing: Row = {};
        relation.columns.forEach((c, i) => {
          if (c !== ORGANIZATION_COLUMN) pointing[c] = parent[relation.targetColumns[i]];
        });
        // 23503: the composite foreign key finds no such row in this organization; 42501: not even allowed to insert.
        await refused(`a reference to another organization's ${relation.target} (${relation.field}) is refused`, await make.values(model, a, pointing), ['23503', '42501']);
      }

      const surface = options.surfaces?.find((m) => m.name === model.name);
      if (options.graphql && surface && rowA.id) await checkApi(options.graphql, surface, admin, model, rowA, a, b, record);

      if (model.departmentField) {
        const departments = models.get('Department');
        if (!departments) continue;
        const department = await make.insert(departments, await make.values(departments, a), a);
        const restricted = await make.insert(model, await make.values(model, a, { [model.columns[model.departmentField]]: department.id }), a);
        const where = keyWhere(model, restricted);
        const count = (role: string) =>
          asTenant(runtime, a, { role }, async () => (await runtime.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where.sql}`, where.values)).rows[0].n as number);
        const [member, owner] = [await count('MEMBER'), await count('OWNER')];
        record(
          'a department-restricted row is hidden from a member outside the department, shown to an owner',
          isError(member) || isError(owner) ? String((member as { error?: string }).error ?? (owner as { error?: string }).error) : member === 0 && owner === 1 ? null : `member sees ${member}, owner sees ${owner}`,
        );
      }
    }
  } finally {
    await admin.end();
    await runtime.end();
  }
  return results;
}

/** Through GraphQL, as B's owner: A's row is in no list, not counted, not found by id or node, and not updatable or deletable. */
async function checkApi(graphql: GraphQLAs, surface: TenantModelSurface, admin: pg.Client, model: TenantModel, rowA: Row, a: Org, b: Org, record: (check: string, failure: string | null) => void) {
  const id = encodeGlobalID(surface.name, String(rowA.id));
  const asB = { organizationId: b.id, userId: b.ownerId };
  const read = `query($id: ID!) { list: ${surface.plural}(first: 100) { totalCount edges { node { id } } } one: ${surface.get}(id: $id) { id } node(id: $id) { id } }`;
  const theirs = await graphql(asB, read, { id });
  const own = Number((await admin.query(`SELECT count(*)::int AS n FROM ${qualifiedTable(model)} WHERE ${ident(ORGANIZATION_COLUMN)} = $1`, [b.id])).rows[0].n);
  const list = theirs.data?.list as { totalCount: number; edges: { node: { id: string } }[] } | undefined;
  record(
    `GraphQL: ${surface.plural}, totalCount, ${surface.get}(id) and node(id) show nothing of another organization`,
    theirs.errors?.length ? JSON.stringify(theirs.errors) : !list ? 'no data'
      : list.edges.some((e) => e.node.id === id) ? 'listed' : list.totalCount !== own ? `totalCount ${list.totalCount}, its own rows ${own}`
      : theirs.data?.one !== null || theirs.data?.node !== null ? 'found by id' : null,
  );
  const mine = await graphql({ organizationId: a.id, userId: a.ownerId }, read, { id });
  record(`GraphQL: the owner's organization finds the row by ${surface.get}(id) and node(id)`, (mine.data?.one as { id?: string } | null)?.id === id && (mine.data?.node as { id?: string } | null)?.id === id ? null : JSON.stringify(mine).slice(0, 300));
  for (const verb of ['update', 'delete'] as const) {
    if (!surface[verb]) continue;
    const field = `${verb}${surface.name}`;
    const result = await graphql(asB, `mutation($id: ID!) { ${field}(input: { id: $id }) { __typename } }`, { id });
    const code = result.errors?.[0]?.extensions?.code;
    record(`GraphQL: ${field} of another organization's row is NOT_FOUND`, code === 'NOT_FOUND' ? null : `got ${JSON.stringify(result).slice(0, 200)}`);
  }
  const still = (await admin.query(`SELECT count(*)::int AS n FROM ${qualifiedTable(model)} WHERE ${keyWhere(model, rowA).sql}`, keyWhere(model, rowA).values)).rows[0].n;
  record('GraphQL: the row is still there afterwards', still === 1 ? null : 'gone');
}
