import type { Prisma } from '../generated/prisma/client';
import { QuotaResource } from '../generated/prisma/enums';

/**
 * What an organization may have, and how much of it it has.
 *
 * Plans and their limits are data: plan_limits (seeded by the migration, read by
 * everyone), with per-organization overrides in quota_overrides that platform
 * operators set (setQuota). Usage is counted by app.quota_usage(resource) (see
 * prisma/migrations/20261127030100_quotas), for app.current_org_id() only and
 * past the department restriction: a quota counts every row the organization
 * has, not the rows its caller may see.
 */

export const QUOTA_RESOURCES: readonly QuotaResource[] = Object.values(QuotaResource);

export interface Quota {
  resource: QuotaResource;
  /** The effective limit (see effectiveLimit); null is unlimited. */
  limit: number | null;
  used: number;
  /** limit - used, never negative (a limit lowered below use leaves 0); null when unlimited. */
  remaining: number | null;
}

export interface QuotaLimits {
  /** The plan's limit (plan_limits); null is unlimited. */
  plan: number | null;
  /** The organization's override (quota_overrides), if it has one; its limit null is unlimited. */
  override: { limit: number | null } | null;
}

/**
 * The override when there is one, else the plan's limit. An override of null
 * (unlimited) wins too, so this is `override ?? plan` on the row, not on its value.
 */
export function effectiveLimit({ plan, override }: QuotaLimits): number | null {
  return override ? override.limit : plan;
}

/**
 * Raw SQL in the organization's scope: the tenant client, its open transaction,
 * or a system transaction that has set app.current_org_id (setQuota).
 */
export type ScopedSql = Pick<Prisma.TransactionClient, '$queryRaw'>;

interface QuotaRow {
  resource: QuotaResource;
  planned: boolean;
  plan_limit: bigint | null;
  overridden: boolean;
  override_limit: bigint | null;
  /** Null when not counted (an unlimited quota, readLimitingQuotas). */
  used: bigint | null;
}

const asNumber = (value: bigint | null): number | null => (value === null ? null : Number(value));

/**
 * The quotas of the current organization (app.current_org_id()), in the order
 * asked. One statement: the plan's limits, the overrides and the usage.
 *
 * The filters on organization_id are explicit although RLS would add them, so
 * that the same statement is right on the system client (setQuota), which
 * bypasses RLS. An organization without a subscription row is on FREE, as
 * organization.subscription reports it.
 */
export async function readQuotas(db: ScopedSql, resources: readonly QuotaResource[] = QUOTA_RESOURCES): Promise<Quota[]> {
  return quotasOf(db, resources, true);
}

/**
 * The quotas that limit `resources`, for a check before a write: an unlimited
 * one is left out, and its usage is not counted. PERF: counting is a scan of the
 * organization's rows; a limited quota bounds them, an unlimited one does not
 * (an ENTERPRISE organization's 20,000 projects doubled createProject's time).
 */
export async function readLimitingQuotas(db: ScopedSql, resources: readonly QuotaResource[]): Promise<(Quota & { limit: number })[]> {
  return (await quotasOf(db, resources, false)).filter((quota): quota is Quota & { limit: number } => quota.limit !== null);
}

async function quotasOf(db: ScopedSql, resources: readonly QuotaResource[], countUnlimited: boolean): Promise<Quota[]> {
  const rows = await db.$queryRaw<QuotaRow[]>`
    SELECT r.resource::text AS resource,
           pl.plan IS NOT NULL AS planned,
           pl."limit" AS plan_limit,
           o.resource IS NOT NULL AS overridden,
           o."limit" AS override_limit,
           CASE WHEN ${countUnlimited}::boolean OR (CASE WHEN o.resource IS NOT NULL THEN o."limit" ELSE pl."limit" END) IS NOT NULL
                THEN app.quota_usage(r.resource) END AS used
      FROM unnest(${resources}::"QuotaResource"[]) WITH ORDINALITY AS r(resource, position)
      LEFT JOIN subscriptions s ON s.organization_id = app.current_org_id()
      LEFT JOIN plan_limits pl ON pl.plan = coalesce(s.plan, 'FREE') AND pl.resource = r.resource
      LEFT JOIN quota_overrides o ON o.organization_id = app.current_org_id() AND o.resource = r.resource
     ORDER BY r.position`;
  return rows.map((row) => {
    // plan_limits has a row for every plan and resource (NULL meaning unlimited):
    // a missing one is a data error, and must not pass for "unlimited".
    if (!row.planned) throw new Error(`plan_limits has no row for the organization's plan and ${row.resource}`);
    const limit = effectiveLimit({ plan: asNumber(row.plan_limit), override: row.overridden ? { limit: asNumber(row.override_limit) } : null });
    const used = Number(row.used);
    return { resource: row.resource, limit, used, remaining: limit === null ? null : Math.max(limit - used, 0) };
  });
}
