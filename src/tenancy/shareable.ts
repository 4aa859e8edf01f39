import { Prisma } from '../generated/prisma/client';
import { builder } from '../builder';
import type { Context } from '../context';
import { isRecordNotFound, refusalOf } from '../db/database-errors';
import { badUserInput, forbidden, notFound } from '../errors';
import { VisibilityEnum } from '../schema/sharing/sharing.type';
import { findMany, findOne } from './compiled-read';

/**
 * The read and write side of sharing for a shareable model (migrations
 * 20261204150200_sharing and 20261205150100_shared_pages), used by tenantModel's
 * `shareable` option and by Project:
 *
 * - the list's `scope: OWN | SHARED | PUBLIC | ALL` (OWN, the default, is the
 *   model's own query, unchanged); other scopes read the page's keys with one
 *   statement of three index-ordered branches, then the rows (with the
 *   selection's joins) with a second: two statements whatever the page size;
 * - `visibility`, `ownerOrganization { slug name }` and `viewerPermissions`;
 * - get and node(id) by id alone (the global ID does not name the organization);
 * - updates by a WRITE grantee, and FORBIDDEN where the row is visible but the
 *   write is not the viewer's (READ only, delete).
 *
 * Nothing here decides who sees what: every statement goes through RLS. The
 * explicit predicates only let the planner use indexes (docs/adr/0052).
 */

export type ShareScope = 'OWN' | 'SHARED' | 'PUBLIC' | 'ALL';

export const ShareScopeEnum = builder.enumType('ShareScope', {
  values: {
    OWN: { description: "Your organization's rows (the default)." },
    SHARED: { description: 'Rows other organizations shared with yours.' },
    PUBLIC: { description: "Other organizations' public rows." },
    ALL: { description: 'All three: every row your organization may read.' },
  } as const,
});

export const ViewerPermissionEnum = builder.enumType('ViewerPermission', {
  values: {
    READ: { description: 'Read the row.' },
    WRITE: { description: "Update the row's fields (a WRITE grant: only the shared fields)." },
    DELETE: { description: 'Delete the row: only its own organization.' },
    SHARE: { description: "Share it, unshare it, change its visibility: its own organization's OWNER and ADMIN." },
  } as const,
});

export const OwnerOrganization = builder.objectRef<{ slug: string; name: string }>('OwnerOrganization').implement({
  description: 'The organization a row belongs to: its public handle and name, nothing more.',
  fields: (t) => ({ slug: t.exposeString('slug'), name: t.exposeString('name') }),
});

export interface ShareableRow {
  id: string;
  organizationId: string;
  visibility: string;
  sharedWriteOrgIds: string[];
}

type Permission = 'READ' | 'WRITE' | 'DELETE' | 'SHARE';

/**
 * What the viewer may do with a row it can read: the policies' rules, for display
 * (the database still decides). `writeRoles`: the roles the model's writes are
 * limited to (tenantModel's authScopes.write.role), when they are.
 */
export function viewerPermissions(row: ShareableRow, ctx: Context, writeRoles?: readonly string[]): Permission[] {
  const viewer = ctx.viewer!;
  if (row.organizationId === viewer.organizationId) {
    const admin = viewer.role === 'OWNER' || viewer.role === 'ADMIN';
    const writes: Permission[] = !writeRoles || writeRoles.includes(viewer.role) ? ['WRITE', 'DELETE'] : [];
    return ['READ', ...writes, ...(admin ? (['SHARE'] as const) : [])];
  }
  return row.visibility !== 'PRIVATE' && row.sharedWriteOrgIds.includes(viewer.organizationId) ? ['READ', 'WRITE'] : ['READ'];
}

// eslint-like escape hatch: Pothos' prisma field builders are typed per model.
type AnyFieldBuilder = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What each of shareableFields' fields reads from its row besides the organization and the id (src/tenancy/columns.ts). */
export const SHAREABLE_FIELD_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  visibility: ['visibility'],
  ownerOrganization: [],
  viewerPermissions: ['visibility', 'sharedWriteOrgIds'],
};

/** The fields every shareable node has (each reads what SHAREABLE_FIELD_COLUMNS says). */
export function shareableFields(t: AnyFieldBuilder, table: string, writeRoles?: readonly string[]) {
  return {
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    ownerOrganization: t.field({
      type: OwnerOrganization,
      nullable: true,
      description: 'Whose row this is (your own organization for your rows); null only when it stopped being visible to you during the request.',
      // PERF: batched per request (ctx.loaders.rowOwner): one statement for a page.
      resolve: (row: ShareableRow, _args: unknown, ctx: Context) => ctx.loaders.rowOwner.load(`${table}:${row.id}`),
    }),
    viewerPermissions: t.field({
      type: [ViewerPermissionEnum],
      description: 'What you may do with this row: all for your own (SHARE for OWNER and ADMIN), READ or READ and WRITE for a shared or public row.',
      resolve: (row: ShareableRow, _args: unknown, ctx: Context) => viewerPermissions(row, ctx, writeRoles),
    }),
  };
}

/** A model delegate of the tenant client, as this module uses it. */
interface Delegate {
  findMany(args: object): Promise<unknown[]>;
  findFirst(args: object): Promise<unknown>;
}

// Which organization owns an id this request has already read: node(id) and
// Pothos' reload of a missing selection then need no lookup. Keyed by the
// request's viewer, which derived contexts (the quota check's) share.
// PERF: the rows as read, searched when an id is asked for (rarely: a mutation
// by id after a read); indexing every page's rows cost more than any lookup saved.
const known = new WeakMap<object, unknown[]>();

type KnownRow = { id?: string; organizationId?: string } | null;

export function remember(ctx: Context, rows: unknown): void {
  const read = known.get(ctx.viewer!);
  if (read) read.push(rows);
  else known.set(ctx.viewer!, [rows]);
}

/** The organization of a row this request has read, by its id. */
function knownOrganization(ctx: Context, id: string): string | undefined {
  for (const rows of known.get(ctx.viewer!) ?? []) {
    for (const row of (Array.isArray(rows) ? rows : [rows]) as KnownRow[]) if (row?.id === id && row.organizationId) return row.organizationId;
  }
  return undefined;
}

/**
 * The unique key of a row by its id alone, for node(id): the viewer's own key
 * when the request already knows the row, else one lookup by id (an index on
 * id; RLS decides whether the row is found at all).
 */
export function keyOf(ctx: Context, delegate: Delegate, id: string) {
  const own = { organizationId_id: { organizationId: ctx.viewer!.organizationId, id } };
  const organizationId = knownOrganization(ctx, id);
  if (organizationId) return { organizationId_id: { organizationId, id } };
  return delegate.findFirst({ where: { id }, select: { organizationId: true } }).then((row) =>
    row ? { organizationId_id: { organizationId: (row as { organizationId: string }).organizationId, id } } : own,
  );
}

/** get-by-id: one statement, by the id index; RLS shows own, shared and public rows. */
export async function findById(ctx: Context, model: string, query: object, id: string): Promise<unknown> {
  const row = await findOne(ctx.tenantDb(), model, { ...query, where: { id } });
  remember(ctx, row);
  return row;
}

interface PageQuery {
  take?: number;
  skip?: number;
  cursor?: { organizationId_id?: { organizationId: string; id: string } };
  [key: string]: unknown;
}

export interface SharedPageOptions {
  table: string;
  scope: Exclude<ShareScope, 'OWN'>;
  /** Pothos' query: take (negative backwards), cursor, skip, and the selection. */
  query: PageQuery;
  /** The order's direction on (created_at, id). */
  direction: 'asc' | 'desc';
  /** A further condition on the table's columns (a filter), applied in every branch. */
  where?: Prisma.Sql;
}

/**
 * The SQL of a non-OWN page's keys: up to three branches, each ordered by an
 * index and limited, merged and limited again.
 *   own:    organization_id = $org (uuid =, leakproof: the (organization_id, created_at, id) index)
 *   shared: app.shared_row_keys(table) joined back to the table by id (GIN as the definer, then RLS)
 *   public: visibility = 'PUBLIC' (the partial index, proved from its predicate)
 * The cursor is (created_at, id) < the cursor row's, also leakproof: an index condition.
 */
export function sharedPageSql(options: { table: string; scope: Exclude<ShareScope, 'OWN'>; organizationId: string; limit: number; direction: 'asc' | 'desc'; cursor?: { organizationId: string; id: string }; where?: Prisma.Sql }): Prisma.Sql {
  const { scope, organizationId: org, limit, direction, cursor } = options;
  if (!/^[a-z_]+$/.test(options.table)) throw new Error(`not a table name: ${options.table}`);
  const table = Prisma.raw(`"${options.table}"`);
  const dir = Prisma.raw(direction === 'asc' ? 'ASC' : 'DESC');
  const cmp = Prisma.raw(direction === 'asc' ? '>' : '<');
  const extra = options.where ? Prisma.sql` AND ${options.where}` : Prisma.empty;
  const after = (alias: string) =>
    cursor
      ? Prisma.sql` AND (${Prisma.raw(alias)}created_at, ${Prisma.raw(alias)}id) ${cmp} ((SELECT created_at FROM cursor_row), (SELECT id FROM cursor_row))`
      : Prisma.empty;
  const branches: Prisma.Sql[] = [];
  if (scope === 'ALL') {
    branches.push(Prisma.sql`(SELECT organization_id, id, created_at FROM ${table} WHERE organization_id = ${org}::uuid${extra}${after('')} ORDER BY created_at ${dir}, id ${dir} LIMIT ${limit})`);
  }
  if (scope === 'ALL' || scope === 'SHARED') {
    branches.push(
      Prisma.sql`(SELECT t.organization_id, t.id, t.created_at FROM app.shared_row_keys(${options.table}) k JOIN ${table} t ON t.organization_id = k.organization_id AND t.id = k.id WHERE true${extra}${after('t.')} ORDER BY t.created_at ${dir}, t.id ${dir} LIMIT ${limit})`,
    );
  }
  if (scope === 'ALL' || scope === 'PUBLIC') {
    // In ALL, a public row also granted to the viewer comes from the shared branch.
    const granted = scope === 'ALL' ? Prisma.sql` AND NOT shared_read_org_ids @> ARRAY[${org}::uuid]` : Prisma.empty;
    branches.push(
      Prisma.sql`(SELECT organization_id, id, created_at FROM ${table} WHERE visibility = 'PUBLIC' AND organization_id <> ${org}::uuid${granted}${extra}${after('')} ORDER BY created_at ${dir}, id ${dir} LIMIT ${limit})`,
    );
  }
  const withCursor = cursor ? Prisma.sql`WITH cursor_row AS (SELECT created_at, id FROM ${table} WHERE organization_id = ${cursor.organizationId}::uuid AND id = ${cursor.id}::uuid) ` : Prisma.empty;
  return Prisma.sql`${withCursor}SELECT organization_id, id FROM (${Prisma.join(branches, ' UNION ALL ')}) page ORDER BY created_at ${dir}, id ${dir} LIMIT ${limit}`;
}

/** The count of a non-OWN scope: each branch counted by its own index. */
export function sharedCountSql(options: { table: string; scope: Exclude<ShareScope, 'OWN'>; organizationId: string; where?: Prisma.Sql }): Prisma.Sql {
  const { scope, organizationId: org } = options;
  if (!/^[a-z_]+$/.test(options.table)) throw new Error(`not a table name: ${options.table}`);
  const table = Prisma.raw(`"${options.table}"`);
  const extra = options.where ? Prisma.sql` AND ${options.where}` : Prisma.empty;
  const parts: Prisma.Sql[] = [];
  if (scope === 'ALL') parts.push(Prisma.sql`(SELECT count(*) FROM ${table} WHERE organization_id = ${org}::uuid${extra})`);
  if (scope === 'ALL' || scope === 'SHARED') {
    parts.push(Prisma.sql`(SELECT count(*) FROM app.shared_row_keys(${options.table}) k JOIN ${table} t ON t.organization_id = k.organization_id AND t.id = k.id WHERE true${extra})`);
  }
  if (scope === 'ALL' || scope === 'PUBLIC') {
    const granted = scope === 'ALL' ? Prisma.sql` AND NOT shared_read_org_ids @> ARRAY[${org}::uuid]` : Prisma.empty;
    parts.push(Prisma.sql`(SELECT count(*) FROM ${table} WHERE visibility = 'PUBLIC' AND organization_id <> ${org}::uuid${granted}${extra})`);
  }
  return Prisma.sql`SELECT (${Prisma.join(parts, ' + ')})::int AS count`;
}

/** A filter of a non-OWN page: `column = value::"EnumType"` (identifiers checked, the value bound). */
export function enumEquals(column: string, enumType: string, value: string): Prisma.Sql {
  if (!/^[a-z_]+$/.test(column) || !/^[A-Za-z]+$/.test(enumType)) throw new Error(`bad filter ${column}::${enumType}`);
  return Prisma.sql`${Prisma.raw(column)} = ${value}::${Prisma.raw(`"${enumType}"`)}`;
}

/** Conditions of a non-OWN page, all of them. */
export function andSql(conditions: Prisma.Sql[]): Prisma.Sql {
  return Prisma.sql`(${Prisma.join(conditions, ' AND ')})`;
}

/** A non-OWN page: its keys (one statement), then its rows with the selection (one more), in the keys' order. */
export async function sharedPage(ctx: Context, model: string, options: SharedPageOptions): Promise<unknown[]> {
  const { take = 20, cursor, ...selection } = options.query;
  delete selection.skip; // the cursor's comparison is strict: the cursor row is never in the page
  const backwards = take < 0;
  const direction = backwards ? (options.direction === 'asc' ? 'desc' : 'asc') : options.direction;
  const sql = sharedPageSql({
    table: options.table,
    scope: options.scope,
    organizationId: ctx.viewer!.organizationId,
    limit: Math.abs(take),
    direction,
    cursor: cursor?.organizationId_id,
    where: options.where,
  });
  const client = ctx.tenantDb();
  // PERF: on a query's held connection, as the compiled reads run (no PrismaClient bound for it).
  const held = client.$compiledReads ? client.$readRows({ text: sql.text, values: sql.values }) : null;
  const keys = held
    ? (await held).map(([organizationId, id]) => ({ organization_id: String(organizationId), id: String(id) }))
    : await client.$queryRaw<{ organization_id: string; id: string }[]>(sql);
  if (backwards) keys.reverse();
  if (keys.length === 0) return [];
  const rows = (await findMany(client, model, {
    ...selection,
    // (organization_id = ANY, id = ANY): the primary key, leakproof under RLS.
    where: { organizationId: { in: [...new Set(keys.map((k) => k.organization_id))] }, id: { in: keys.map((k) => k.id) } },
  })) as { id: string; organizationId: string }[];
  const byKey = new Map(rows.map((row) => [`${row.organizationId}:${row.id}`, row]));
  // A row revoked between the two statements is simply left out (the same transaction for a query: it is not).
  const page = keys.map((k) => byKey.get(`${k.organization_id}:${k.id}`)).filter((row) => row !== undefined);
  remember(ctx, page);
  return page;
}

export async function sharedCount(ctx: Context, options: { table: string; scope: Exclude<ShareScope, 'OWN'>; where?: Prisma.Sql }): Promise<number> {
  const [{ count }] = await ctx.tenantDb().$queryRaw<{ count: number }[]>(sharedCountSql({ ...options, organizationId: ctx.viewer!.organizationId }));
  return count;
}

/** A non-OWN scope lists by creation time only: the branches' indexes are ordered by it. */
export function sharedOrder(scope: ShareScope, order: { field: string; direction?: string | null } | null | undefined): 'asc' | 'desc' {
  if (scope !== 'OWN' && order && order.field !== 'createdAt') {
    throw badUserInput([{ field: 'orderBy', message: `scope ${scope} is ordered by CREATED_AT only` }]);
  }
  return (order?.direction ?? 'DESC').toLowerCase() === 'asc' ? 'asc' : 'desc';
}

/**
 * A write that did not find the row under the viewer's own key: another
 * organization's row the viewer may see. A WRITE grantee updates it (the guard
 * trigger keeps it to the shared fields); anything else visible is FORBIDDEN;
 * invisible stays NOT_FOUND.
 */
export async function foreignWrite<T>(
  ctx: Context,
  delegate: Delegate,
  typeName: string,
  id: string,
  write: ((key: { organizationId_id: { organizationId: string; id: string } }) => Promise<T>) | null,
): Promise<T> {
  const row = (await delegate.findFirst({ where: { id }, select: { id: true, organizationId: true, visibility: true, sharedWriteOrgIds: true } })) as ShareableRow | null;
  if (!row || row.organizationId === ctx.viewer!.organizationId) throw notFound(typeName);
  if (!write) throw forbidden(`Only the organization that owns this ${typeName} may delete it`);
  if (!viewerPermissions(row, ctx).includes('WRITE')) throw forbidden(`Your organization may read this ${typeName}, not change it`);
  try {
    const result = await write({ organizationId_id: { organizationId: row.organizationId, id } });
    remember(ctx, result);
    return result;
  } catch (error) {
    if (isRecordNotFound(error)) throw notFound(typeName);
    // The guard trigger: a WRITE grant changes only the shared fields.
    if (refusalOf(error) === 'policyRefused') throw forbidden(`A WRITE grant changes only this ${typeName}'s shared fields`);
    throw error;
  }
}
