import { encodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import type { z } from 'zod';
import { builder } from '../builder';
import type { Context } from '../context';
import { foreignKeyViolation, isRecordNotFound } from '../db/database-errors';
import { badUserInput, notFound } from '../errors';
import * as prismaEnums from '../generated/prisma/enums';
import type { QuotaResource } from '../generated/prisma/enums';
import type { Prisma } from '../generated/prisma/client';
import type PrismaTypes from '../generated/pothos-types';
import { datamodel } from '../generated/tenancy-datamodel';
import { globalIdOf, UUID } from '../schema/global-id';
import { VisibilityEnum } from '../schema/sharing/sharing.type';
import { USER_COLUMNS } from '../schema/users/user.type';
import { columnsFromSelection } from './columns';
import { findMany, findOne } from './compiled-read';
import { ORGANIZATION_FIELD, readTenancy, type TenantModel } from './model';
import { andSql, findById, foreignWrite, keyOf, remember, SHAREABLE_FIELD_COLUMNS, shareableFields, sharedCount, sharedOrder, sharedPage, ShareScopeEnum, type ShareScope } from './shareable';

/**
 * A tenant model's GraphQL surface from its Prisma model, in one call:
 *
 *   tenantModel('Task', { fields, filter, create, update, delete: true, quota: 'TASKS' })
 *
 * gives the Relay node `Task` (opaque global ID), the connection `tasks(first,
 * after, last, before, filter, orderBy)` with totalCount, `task(id)`, and
 * `createTask` / `updateTask` / `deleteTask` with payload types. Nothing in it
 * filters by organization: every statement goes through ctx.tenantDb(), where
 * RLS does, and the composite keys keep references inside the organization. So
 * another organization's id is the same NOT_FOUND as a missing one.
 *
 * Options are data (which fields, which quota, which scopes), so later features
 * (sharing, domain events) can add options without changing models written with it.
 */

type ModelName = keyof PrismaTypes & string;
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
/** Scopes as src/builder.ts declares them, e.g. `{ role: ['OWNER', 'ADMIN'] }`. */
type Scopes = Partial<Types['AuthScopes']>;
// eslint-like escape hatch kept in one place: Pothos' generic field builders are typed per model name.
type AnyFieldBuilder = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TenantModelOptions {
  /** The node's fields besides `id`, with Pothos' prisma field builder (t.exposeString, t.relation, ...). */
  fields?: (t: AnyFieldBuilder) => Record<string, unknown>;
  /**
   * The scalar fields of the model each field of `fields` reads from its row,
   * e.g. `{ owner: ['ownerId'] }` (the organization and the id are always read).
   * PERF: a list or get reads only the columns its selection needs
   * (src/tenancy/columns.ts); a selected field of `fields` without an entry makes
   * that request read every column.
   */
  fieldColumns?: Record<string, readonly string[]>;
  /** Scalar fields exposed as they are, typed from the model (enums, Date for @db.Date, DateTime, ...). */
  expose?: string[];
  /**
   * Relations exposed as fields by name. A relation to a Membership is exposed as
   * the member's User, joined into the same statement; any other through Pothos
   * (joined into the page's statement, or batched).
   */
  relations?: string[];
  /** Fields the connection's `filter` offers: enums (any of), references (one id), dates (a range). */
  filter?: string[];
  /**
   * Fields the connection may be ordered by, besides the indexed ones (fields that
   * follow organizationId in an index of the model), which are always offered.
   * PERF: an unindexed order sorts the organization's rows on every page.
   */
  orderBy?: string[];
  /** Fields createX takes, with optional zod rules; a reference field takes the target's global ID. */
  create?: Record<string, z.ZodType | true>;
  /** Fields updateX takes (all optional), with optional zod rules. */
  update?: Record<string, z.ZodType | true>;
  /** Adds deleteX. @default false */
  delete?: boolean;
  /** The quota a create counts against (a QuotaResource, with its plans' limits as data). */
  quota?: QuotaResource;
  /** Scopes (src/builder.ts) for reads and writes. @default members for both (the Query and Mutation types' own) */
  authScopes?: { read?: Scopes; write?: Scopes };
  /** Plural of the connection's field. @default `${camel(name)}s` */
  plural?: string;
  /**
   * The model is shareable (its table made so by app.make_shareable): the list
   * takes `scope: OWN | SHARED | PUBLIC | ALL` (default OWN), the node has
   * `visibility`, `ownerOrganization` and `viewerPermissions`, get and node(id)
   * find shared and public rows, and a WRITE grantee may update (src/tenancy/shareable.ts).
   * @default false
   */
  shareable?: boolean;
  /**
   * Arguments of the list besides `filter` and `orderBy`, each a condition on the
   * rows (e.g. Project's `status`, kept for its clients): `where` for Prisma, `sql`
   * for a shareable model's non-OWN scopes (src/tenancy/shareable.ts's enumEquals).
   */
  listArgs?: Record<string, { type: unknown; description?: string; where: (value: never) => Record<string, unknown>; sql: (value: never) => Prisma.Sql }>;
  /** Columns createX sets itself rather than taking them as input, e.g. Project's owner (the caller, or the organization's owner in a support session). */
  createData?: (ctx: Context) => Promise<Record<string, unknown>>;
  /**
   * A model's own translation of a refused write (null: the generic one). Prepared
   * before the write: a create runs in the quota check's transaction, which a
   * refused INSERT aborts, so what it needs to read must be read first.
   */
  refusal?: (ctx: Context, input: Record<string, unknown>, operation: 'create' | 'update') => Promise<(error: unknown) => Promise<unknown>>;
}

const tenancy = readTenancy(datamodel);

/**
 * A cursor is the client's to send back: one that does not name a row key
 * (two UUIDs) is BAD_USER_INPUT on `after`/`before`, before any statement
 * (PostgreSQL would refuse the value as a uuid: an unexpected error).
 */
function refuseForeignCursor(query: object, args: ListArgs): void {
  const key = (query as { cursor?: { organizationId_id?: { organizationId?: unknown; id?: unknown } } }).cursor?.organizationId_id;
  if (!key) return;
  const uuid = (value: unknown) => typeof value === 'string' && UUID.test(value);
  if (!uuid(key.organizationId) || !uuid(key.id)) throw badUserInput([{ field: args.before != null ? 'before' : 'after', message: 'is not a cursor of this connection' }]);
}

/** The `omit` of the columns the selection does not need; none when Pothos' query selects (Prisma takes omit with include only). */
function omitted(query: object, columns: (info: GraphQLResolveInfo) => { omit?: Record<string, true> }, info: GraphQLResolveInfo) {
  return 'select' in query ? {} : columns(info);
}

interface ListArgs {
  after?: string | null;
  before?: string | null;
  filter?: Record<string, unknown>;
  orderBy?: { field: string; direction?: string };
  scope?: ShareScope;
  [listArg: string]: unknown;
}

/** The models built with tenantModel and the operations they have: what the isolation suite checks through GraphQL. */
export interface TenantModelSurface {
  name: string;
  /** The connection field, e.g. `tasks`. */
  plural: string;
  /** The get field, e.g. `task`. */
  get: string;
  update: boolean;
  delete: boolean;
}
export const tenantModelSurfaces: TenantModelSurface[] = [];
const enumRefs = new Map<string, unknown>();
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

function enumRef(name: string) {
  if (!enumRefs.has(name)) {
    const values = (prismaEnums as unknown as Record<string, Record<string, string>>)[name];
    enumRefs.set(name, builder.enumType(values, { name }));
  }
  return enumRefs.get(name);
}

/** Pre-registers an enum already defined elsewhere (e.g. ProjectStatus), so the helper does not define it twice. */
export function registerEnum(name: string, ref: unknown): void {
  enumRefs.set(name, ref);
}
// A shareable model's `visibility` column: the enum the sharing mutations already define.
registerEnum('Visibility', VisibilityEnum);

interface ScalarInfo {
  field: string;
  column: string;
  graphqlType: unknown;
  /** The tenant model this scalar references (projectId -> Project), when it is a foreign key's own column. */
  references?: string;
  required: boolean;
  kind: 'enum' | 'scalar';
  isDate: boolean;
}

function scalars(model: TenantModel): Map<string, ScalarInfo> {
  const map = new Map<string, ScalarInfo>();
  const references = new Map<string, string>();
  for (const field of model.model.fields) {
    if (field.kind !== 'object' || !field.relationFromFields) continue;
    // A member is named by its User's global ID: the membership's key is (organization, user).
    for (const from of field.relationFromFields) if (from !== ORGANIZATION_FIELD) references.set(from, field.type === 'Membership' ? 'User' : field.type);
  }
  for (const field of model.model.fields) {
    if (field.kind === 'object') continue;
    const nativeDate = field.nativeType?.[0] === 'Date';
    const graphqlType =
      field.kind === 'enum'
        ? enumRef(field.type)
        : references.has(field.name) || field.name === 'id'
          ? 'ID'
          : ({ String: 'String', Int: 'Int', Float: 'Float', Boolean: 'Boolean', DateTime: nativeDate ? 'Date' : 'DateTime', BigInt: 'SafeInt' } as Record<string, string>)[field.type];
    map.set(field.name, {
      field: field.name,
      column: model.columns[field.name],
      graphqlType,
      references: references.get(field.name),
      required: field.isRequired && !field.hasDefaultValue && !field.isUpdatedAt,
      kind: field.kind === 'enum' ? 'enum' : 'scalar',
      isDate: field.type === 'DateTime',
    });
  }
  return map;
}

let direction: unknown;
const sortDirection = () => (direction ??= builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const }));

const dateRanges: { Date?: unknown; DateTime?: unknown } = {};
function rangeInput(scalar: 'Date' | 'DateTime') {
  dateRanges[scalar] ??= builder.inputType(`${scalar}Bounds`, {
    description: 'From `gte` (included) to `lt` (excluded); either may be left out.',
    fields: (t) => ({ gte: t.field({ type: scalar }), lt: t.field({ type: scalar }) }),
  });
  return dateRanges[scalar];
}

/** What a tenantModel resolver calls on a Prisma model delegate found by name (TenantClient's, for that model). */
interface RuntimeDelegate {
  findMany(args: object): Promise<unknown>;
  findUnique(args: object): Promise<unknown>;
  count(args: object): Promise<unknown>;
  create(args: object): Promise<unknown>;
  update(args: object): Promise<unknown>;
  delete(args: object): Promise<unknown>;
}

/** The input field of `info`, validated: a reference takes the target's global ID and yields its row id. */
function inputField(t: AnyFieldBuilder, info: ScalarInfo, rule: z.ZodType | true, required: boolean) {
  const validate = info.references ? globalIdOf(info.references) : rule === true ? undefined : rule;
  return t.field({ type: info.graphqlType, required, ...(validate ? { validate } : {}) });
}

export function tenantModel(name: ModelName, options: TenantModelOptions = {}) {
  const model = tenancy.tenant.find((m) => m.name === name);
  if (!model) throw new Error(`tenantModel('${name}'): not a tenant model of prisma/schema.prisma (it needs ${ORGANIZATION_FIELD})`);
  if (model.primaryKeyFields.join(',') !== `${ORGANIZATION_FIELD},id`) {
    throw new Error(`tenantModel('${name}'): the primary key must be @@id([${ORGANIZATION_FIELD}, id])`);
  }
  const fieldsOf = scalars(model);
  const delegate = lowerFirst(name);
  const plural = options.plural ?? `${delegate}s`;
  tenantModelSurfaces.push({ name, plural, get: delegate, update: !!options.update, delete: !!options.delete });
  // The model is named at run time: its delegate is read by name off the request's TenantClient.
  const db = (ctx: Context): RuntimeDelegate => {
    const found: unknown = Reflect.get(ctx.tenantDb(), delegate);
    if (typeof found !== 'object' || found === null) throw new Error(`tenantModel('${name}'): the tenant client has no delegate ${delegate}`);
    return found as RuntimeDelegate;
  };
  const key = (ctx: Context, id: string) => ({ organizationId_id: { organizationId: ctx.viewer!.organizationId, id } });
  const b = builder as AnyFieldBuilder;
  const shareable = !!options.shareable;
  // RLS shows a shareable table's shared and public rows too: OWN names the organization.
  const own = (ctx: Context) => (shareable ? { [ORGANIZATION_FIELD]: ctx.viewer!.organizationId } : {});

  const exposed = (t: AnyFieldBuilder) =>
    Object.fromEntries(
      (options.expose ?? []).map((f) => {
        const info = fieldsOf.get(f);
        // A foreign key's raw id would bypass the target's global ID: expose the relation instead.
        if (!info || info.references || f === ORGANIZATION_FIELD) throw new Error(`tenantModel('${name}'): cannot expose ${f}`);
        return [f, t.expose(f, { type: info.graphqlType, nullable: !model.model.fields.find((m) => m.name === f)!.isRequired })];
      }),
    );

  const relationFields = (t: AnyFieldBuilder) => {
    const result: Record<string, unknown> = {};
    for (const relation of options.relations ?? []) {
      const field = model.model.fields.find((f) => f.name === relation && f.kind === 'object');
      if (!field) throw new Error(`tenantModel('${name}'): no relation ${relation}`);
      result[relation] =
        field.type === 'Membership'
          ? t.field({
              type: 'User',
              nullable: !field.isRequired,
              description: 'A member of the same organization (composite foreign key).',
              // PERF: joined into the statement of the row (or of the page), like Project.owner.
              select: { [relation]: { select: { user: { select: USER_COLUMNS } } } },
              resolve: (row: Record<string, { user: unknown } | null>) => row[relation]?.user ?? null,
            })
          : // Nullable whatever the foreign key: RLS may hide the target from this caller (a department-restricted project).
            t.relation(relation, { nullable: true, description: `Null when it is hidden from you.` });
    }
    return result;
  };

  const node = b.prismaNode(name, {
    // The primary key is (organization_id, id); the global ID carries only the id.
    id: { resolve: (row: { id: string }) => row.id },
    // Missing and another organization's look alike: RLS makes them the same query result.
    nullable: true,
    // A shareable row may be another organization's: found by its id (node(id)).
    findUnique: (id: string, ctx: Context) => (shareable ? keyOf(ctx, db(ctx) as never, id) : key(ctx, id)),
    fields: (t: AnyFieldBuilder) => ({ ...exposed(t), ...relationFields(t), ...(options.fields?.(t) ?? {}), ...(shareable ? shareableFields(t, model.table, options.authScopes?.write?.role as string[] | undefined) : {}) }),
  });

  // Columns -----------------------------------------------------------------
  // What each field of the node reads from its row: a list or get omits the other columns.
  const columns = new Map<string, readonly string[]>([['id', []], ['__typename', []]]);
  for (const f of options.expose ?? []) columns.set(f, [f]);
  for (const relation of options.relations ?? []) {
    const field = model.model.fields.find((f) => f.name === relation)!;
    columns.set(relation, (field.relationFromFields ?? []).filter((from) => from !== ORGANIZATION_FIELD));
  }
  for (const [field, read] of Object.entries(options.fieldColumns ?? {})) {
    for (const column of read) if (!fieldsOf.has(column)) throw new Error(`tenantModel('${name}'): fieldColumns.${field} names no scalar field ${column}`);
    columns.set(field, read);
  }
  if (shareable) for (const [field, read] of Object.entries(SHAREABLE_FIELD_COLUMNS)) columns.set(field, read);
  const scalarFields = [...fieldsOf.keys()];
  const listColumns = columnsFromSelection(scalarFields, columns, true);
  const getColumns = columnsFromSelection(scalarFields, columns, false);

  // Filter ------------------------------------------------------------------
  const filterFields = (options.filter ?? []).map((f) => {
    const info = fieldsOf.get(f);
    if (!info) throw new Error(`tenantModel('${name}'): no scalar field ${f} to filter on`);
    return info;
  });
  const Filter = filterFields.length
    ? b.inputType(`${name}Filter`, {
        fields: (t: AnyFieldBuilder) =>
          Object.fromEntries(
            filterFields.map((info) => [
              info.field,
              info.kind === 'enum'
                ? t.field({ type: [info.graphqlType], description: 'Any of these.' })
                : info.isDate
                  ? t.field({ type: rangeInput(info.graphqlType as 'Date' | 'DateTime') })
                  : info.references
                    ? t.field({ type: 'ID', validate: globalIdOf(info.references) })
                    : t.field({ type: info.graphqlType }),
            ]),
          ),
      })
    : undefined;
  const where = (filter: Record<string, unknown> | null | undefined) => {
    const result: Record<string, unknown> = {};
    for (const info of filterFields) {
      const value = filter?.[info.field];
      if (value == null) continue;
      if (info.kind === 'enum') result[info.field] = { in: value };
      else if (info.isDate) {
        const range = value as { gte?: Date | null; lt?: Date | null };
        result[info.field] = { ...(range.gte ? { gte: range.gte } : {}), ...(range.lt ? { lt: range.lt } : {}) };
      } else result[info.field] = value;
    }
    return result;
  };

  const given = (args: ListArgs) => Object.entries(options.listArgs ?? {}).filter(([arg]) => args[arg] != null);
  const argsWhere = (args: ListArgs) => Object.assign({}, ...given(args).map(([arg, spec]) => spec.where(args[arg] as never))) as Record<string, unknown>;
  const argsSql = (args: ListArgs): Prisma.Sql | undefined => {
    const conditions = given(args).map(([arg, spec]) => spec.sql(args[arg] as never));
    return conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : andSql(conditions);
  };

  // Order -------------------------------------------------------------------
  // PERF: only fields an index leads with (after organization_id), unless declared.
  const indexed = model.indexes.filter((i) => i.columns[0] === 'organization_id' && i.columns[1]).map((i) => i.columns[1]);
  const orderable = [...fieldsOf.values()].filter((info) => indexed.includes(info.column) || options.orderBy?.includes(info.field)).map((i) => i.field);
  for (const f of options.orderBy ?? []) if (!fieldsOf.has(f)) throw new Error(`tenantModel('${name}'): no scalar field ${f} to order by`);
  const defaultOrder = orderable.includes('createdAt') ? 'createdAt' : orderable[0] ?? 'id';
  const OrderField = b.enumType(`${name}OrderField`, { values: Object.fromEntries([...new Set([defaultOrder, ...orderable])].map((f) => [f.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(), { value: f }])) });
  const Direction = sortDirection();
  const OrderBy = b.inputType(`${name}OrderBy`, {
    fields: (t: AnyFieldBuilder) => ({ field: t.field({ type: OrderField, required: true }), direction: t.field({ type: Direction, defaultValue: 'DESC' }) }),
  });
  const orderBy = (order: { field: string; direction?: string | null } | null | undefined) => {
    const direction = (order?.direction ?? 'DESC').toLowerCase();
    // The id last: a stable order for the cursor, whatever the field's ties.
    return [{ [order?.field ?? defaultOrder]: direction }, ...(order?.field === 'id' ? [] : [{ id: direction }])];
  };

  builder.queryFields((t) => {
    const q = t as AnyFieldBuilder;
    return {
      [plural]: q.prismaConnection(
        {
          type: name,
          cursor: 'organizationId_id',
          ...(options.authScopes?.read ? { authScopes: options.authScopes.read } : {}),
          args: {
            ...(Filter ? { filter: q.arg({ type: Filter }) } : {}),
            orderBy: q.arg({ type: OrderBy }),
            ...Object.fromEntries(Object.entries(options.listArgs ?? {}).map(([arg, spec]) => [arg, q.arg({ type: spec.type, ...(spec.description ? { description: spec.description } : {}) })])),
            ...(shareable ? { scope: q.arg({ type: ShareScopeEnum, defaultValue: 'OWN', description: 'Whose rows: yours (the default), shared with you, public, or all three.' }) } : {}),
          },
          // No organization filter here, on purpose: RLS adds it (and `own` for a shareable model's OWN).
          resolve: async (query: object, _root: unknown, args: ListArgs, ctx: Context, info: GraphQLResolveInfo) => {
            refuseForeignCursor(query, args);
            const scope = args.scope ?? 'OWN';
            if (scope !== 'OWN') {
              const direction = sharedOrder(scope, args.orderBy);
              if (Object.keys(where(args.filter)).length) throw badUserInput([{ field: 'filter', message: `applies to scope OWN only` }]);
              return sharedPage(ctx, name, { table: model.table, scope, query: query as never, direction, where: argsSql(args) });
            }
            const rows = await findMany(ctx.tenantDb(), name, { ...query, ...omitted(query, listColumns, info), where: { ...where(args.filter), ...argsWhere(args), ...own(ctx) }, orderBy: orderBy(args.orderBy) });
            if (shareable) remember(ctx, rows);
            return rows;
          },
          totalCount: (_root: unknown, args: ListArgs, ctx: Context) =>
            (args.scope ?? 'OWN') !== 'OWN'
              ? sharedCount(ctx, { table: model.table, scope: args.scope as Exclude<ShareScope, 'OWN'>, where: argsSql(args) })
              : db(ctx).count({ where: { ...where(args.filter), ...argsWhere(args), ...own(ctx) } }),
        },
        {},
      ),
      [delegate]: q.prismaField({
        type: name,
        nullable: true,
        ...(options.authScopes?.read ? { authScopes: options.authScopes.read } : {}),
        args: { id: q.arg.id({ required: true, validate: globalIdOf(name) }) },
        resolve: (query: object, _root: unknown, args: { id: string }, ctx: Context, info: GraphQLResolveInfo) => {
          const read = { ...query, ...omitted(query, getColumns, info) };
          return shareable ? findById(ctx, name, read, String(args.id)) : findOne(ctx.tenantDb(), name, { ...read, where: key(ctx, String(args.id)) }, true);
        },
      }),
    };
  });

  // Mutations ---------------------------------------------------------------
  const payload = b.objectRef(`Create${name}Payload`).implement({
    fields: (t: AnyFieldBuilder) => ({ [delegate]: t.field({ type: node, resolve: (p: Record<string, unknown>) => p[delegate] }) }),
  });
  const updatePayload = b.objectRef(`Update${name}Payload`).implement({
    fields: (t: AnyFieldBuilder) => ({ [delegate]: t.field({ type: node, resolve: (p: Record<string, unknown>) => p[delegate] }) }),
  });

  /** A refused reference (a composite foreign key matches only the organization's own rows) is the target's NOT_FOUND. */
  const refused = (error: unknown): unknown => {
    if (isRecordNotFound(error)) return notFound(name);
    const constraint = foreignKeyViolation(error);
    if (constraint) {
      const relation = model.relations.find((r) => constraint === `${model.table}_${r.columns.join('_')}_fkey`);
      if (relation) return notFound(relation.target === 'Membership' ? 'Member' : relation.target);
    }
    return error;
  };
  const data = (input: Record<string, unknown>, fields: string[]) => {
    const result: Record<string, unknown> = {};
    // undefined leaves a column alone; null clears it (only where the column is nullable: GraphQL's types say which).
    for (const f of fields) if (input[f] !== undefined) result[f] = input[f];
    return result;
  };
  const writeScopes = options.authScopes?.write ? { authScopes: options.authScopes.write } : {};

  const mutations: Record<string, (t: AnyFieldBuilder) => unknown> = {};
  if (options.create) {
    const fields = Object.keys(options.create);
    const Input = b.inputType(`Create${name}Input`, {
      fields: (t: AnyFieldBuilder) =>
        Object.fromEntries(fields.map((f) => [f, inputField(t, fieldsOf.get(f)!, options.create![f], fieldsOf.get(f)!.required)])),
    });
    mutations[`create${name}`] = (t) =>
      t.field({
        type: payload,
        ...writeScopes,
        ...(options.quota ? { quota: options.quota } : {}),
        args: { input: t.arg({ type: Input, required: true }) },
        resolve: async (_root: unknown, { input }: { input: Record<string, unknown> }, ctx: Context) => {
          const translate = options.refusal ? await options.refusal(ctx, input, 'create') : null;
          const extra = options.createData ? await options.createData(ctx) : {};
          // organization_id is not given: it defaults to app.current_org_id(), and RLS's WITH CHECK refuses any other.
          const row = await db(ctx)
            .create({ data: { ...data(input, fields), ...extra } })
            .catch(async (e) => Promise.reject((translate ? await translate(e) : null) ?? refused(e)));
          if (shareable) remember(ctx, row);
          return { [delegate]: row };
        },
      });
  }
  if (options.update) {
    const fields = Object.keys(options.update);
    const Input = b.inputType(`Update${name}Input`, {
      fields: (t: AnyFieldBuilder) => ({
        id: t.id({ required: true, validate: globalIdOf(name) }),
        ...Object.fromEntries(fields.map((f) => [f, inputField(t, fieldsOf.get(f)!, options.update![f], false)])),
      }),
    });
    mutations[`update${name}`] = (t) =>
      t.field({
        type: updatePayload,
        ...writeScopes,
        args: { input: t.arg({ type: Input, required: true }) },
        resolve: async (_root: unknown, { input }: { input: Record<string, unknown> }, ctx: Context) => {
          const id = String(input.id);
          const translate = options.refusal ? await options.refusal(ctx, input, 'update') : null;
          const row = await db(ctx)
            .update({ where: key(ctx, id), data: data(input, fields) })
            .catch(async (e) =>
              // Not the viewer's own row: a WRITE grantee's (src/tenancy/shareable.ts).
              shareable && isRecordNotFound(e)
                ? foreignWrite(ctx, db(ctx) as never, name, id, (k) => db(ctx).update({ where: k, data: data(input, fields) }))
                : Promise.reject((translate ? await translate(e) : null) ?? refused(e)),
            );
          if (shareable) remember(ctx, row);
          return { [delegate]: row };
        },
      });
  }
  if (options.delete) {
    const DeletePayload = b.objectRef(`Delete${name}Payload`).implement({
      fields: (t: AnyFieldBuilder) => ({ [`deleted${name}Id`]: t.exposeID(`deleted${name}Id`) }),
    });
    const Input = b.inputType(`Delete${name}Input`, { fields: (t: AnyFieldBuilder) => ({ id: t.id({ required: true, validate: globalIdOf(name) }) }) });
    mutations[`delete${name}`] = (t) =>
      t.field({
        type: DeletePayload,
        ...writeScopes,
        args: { input: t.arg({ type: Input, required: true }) },
        resolve: async (_root: unknown, { input }: { input: { id: string } }, ctx: Context) => {
          const row = (await db(ctx)
            .delete({ where: key(ctx, String(input.id)) })
            // Another organization's row the viewer sees: FORBIDDEN, only its owner deletes.
            .catch((e) => (shareable && isRecordNotFound(e) ? foreignWrite(ctx, db(ctx) as never, name, String(input.id), null) : Promise.reject(refused(e))))) as { id: string };
          return { [`deleted${name}Id`]: encodeGlobalID(name, row.id) };
        },
      });
  }
  builder.mutationFields((t) => Object.fromEntries(Object.entries(mutations).map(([field, make]) => [field, make(t)])) as never);
  return node;
}
