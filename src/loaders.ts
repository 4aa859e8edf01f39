import DataLoader from 'dataloader';
import type { Organization, Role, User } from './generated/prisma/client';
import type { TenantClient } from './db/tenant';

/**
 * DataLoaders, created per request on the request's tenant client, so a batch
 * never mixes organizations and a cached row never outlives the request.
 * Keys carry the organization as well, so a loader shared by mistake still could
 * not serve one organization's row to another.
 */
export interface Loaders {
  /** Users who are members of the active organization (the users policy hides the rest). */
  user: DataLoader<string, User | null>;
  /** The user's role in the active organization, or null when not a member. */
  role: DataLoader<string, Role | null>;
  organization: DataLoader<string, Organization | null>;
  /**
   * The owning organization (slug and name only) of a shareable row, keyed
   * `table:id`: app.row_owners answers only for rows the caller may read.
   */
  rowOwner: DataLoader<string, { slug: string; name: string } | null>;
}

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => found.get(id) ?? null);
}

export function createLoaders(db: TenantClient, organizationId: string | null): Loaders {
  const cacheKeyFn = (id: string) => `${organizationId}:${id}`;
  return {
    user: new DataLoader(async (ids) => byId(await db.user.findMany({ where: { id: { in: [...ids] } } }), ids), { cacheKeyFn }),
    role: new DataLoader(
      async (userIds) => {
        const rows = await db.membership.findMany({ where: { userId: { in: [...userIds] } }, select: { userId: true, role: true } });
        const roles = new Map(rows.map((m) => [m.userId, m.role]));
        return userIds.map((id) => roles.get(id) ?? null);
      },
      { cacheKeyFn },
    ),
    organization: new DataLoader(
      async (ids) => byId(await db.organization.findMany({ where: { id: { in: [...ids] } } }), ids),
      { cacheKeyFn },
    ),
    // PERF: one statement per table for a page's rows.
    rowOwner: new DataLoader(
      async (keys) => {
        const byTable = new Map<string, string[]>();
        for (const key of keys) {
          const [table, id] = key.split(':');
          byTable.set(table, [...(byTable.get(table) ?? []), id]);
        }
        const found = new Map<string, { slug: string; name: string }>();
        for (const [table, ids] of byTable) {
          const rows = await db.$queryRaw<{ id: string; slug: string; name: string }[]>`SELECT id, slug, name FROM app.row_owners(${table}, ${ids}::uuid[])`;
          for (const row of rows) found.set(`${table}:${row.id}`, { slug: row.slug, name: row.name });
        }
        return keys.map((key) => found.get(key) ?? null);
      },
      { cacheKeyFn },
    ),
  };
}
