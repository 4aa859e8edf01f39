import type { Plan, Prisma } from '../generated/prisma/client';
import { loadPriceList, priceMonth, type Charges } from '../billing/pricing';
import { utcDay } from './days';
import type { DayRange } from './period';

/**
 * An organization's usage over a period, and what it would cost: read by the
 * `usage` field on the tenant client (RLS keeps it to the caller's organization)
 * and by `platformUsage` on the system client (which the explicit
 * `organization_id` filters here keep to the one asked for).
 */

export interface UsageReport {
  period: DayRange;
  apiCalls: bigint;
  bandwidthBytes: bigint;
  computeMs: bigint;
  /** Bytes held now (storage_usage): a level, not a sum over the period. */
  storageBytes: bigint;
  /** Distinct users who made a request on any day of the period. */
  activeUsers: bigint;
  /**
   * The period priced as one month of the current subscription: its base,
   * seats and add-ons in full, plus overage of the period's metered bandwidth
   * and compute beyond one month's allowance (see priceMonth). For the current
   * month it is the bill so far, not a projection; for a shorter period the
   * fixed charges are not prorated, for a longer one the allowance is not multiplied.
   */
  estimatedCost: Charges;
}

/** A client that can run a transaction: the tenant client or the system client. */
export interface UsageSource {
  $transaction<R>(fn: (tx: Pick<Prisma.TransactionClient, '$queryRaw' | 'planPrice' | 'addOn'>) => Promise<R>): Promise<R>;
}

interface UsageRow {
  plan: Plan;
  seats: number;
  add_ons: string[];
  api_calls: bigint;
  bandwidth_bytes: bigint;
  compute_ms: bigint;
  storage_bytes: bigint;
  active_users: bigint;
}

/**
 * Null when the organization does not exist (or, on the tenant client, is not the caller's).
 * PERF: one transaction: the figures in one statement (usage_daily and
 * usage_active_users by their primary keys, at most a year of days), then the
 * two price tables.
 */
export async function readUsage(db: UsageSource, organizationId: string, period: DayRange): Promise<UsageReport | null> {
  const from = utcDay(period.from.getTime());
  const to = utcDay(period.to.getTime());
  const [row, prices] = await db.$transaction(async (tx) => {
    // A subscription row comes with every organization; the defaults are its column defaults, for rows made by hand.
    const rows = await tx.$queryRaw<UsageRow[]>`
      SELECT COALESCE(s.plan, 'FREE') AS plan, COALESCE(s.seats, 5) AS seats, COALESCE(s.add_ons, '{}') AS add_ons,
             COALESCE(d.api_calls, 0) AS api_calls, COALESCE(d.bandwidth_bytes, 0) AS bandwidth_bytes, COALESCE(d.compute_ms, 0) AS compute_ms,
             COALESCE((SELECT st.bytes FROM storage_usage st WHERE st.organization_id = o.id), 0) AS storage_bytes,
             (SELECT count(DISTINCT a.user_id) FROM usage_active_users a
               WHERE a.organization_id = o.id AND a.day BETWEEN ${from}::date AND ${to}::date) AS active_users
        FROM organizations o
        LEFT JOIN subscriptions s ON s.organization_id = o.id
        CROSS JOIN LATERAL (
          SELECT sum(u.api_calls)::bigint AS api_calls, sum(u.bandwidth_bytes)::bigint AS bandwidth_bytes, sum(u.compute_ms)::bigint AS compute_ms
            FROM usage_daily u
           WHERE u.organization_id = o.id AND u.day BETWEEN ${from}::date AND ${to}::date
        ) d
       WHERE o.id = ${organizationId}::uuid`;
    return [rows[0], rows[0] ? await loadPriceList(tx) : null] as const;
  });
  if (!row || !prices) return null;
  return {
    period,
    apiCalls: row.api_calls,
    bandwidthBytes: row.bandwidth_bytes,
    computeMs: row.compute_ms,
    storageBytes: row.storage_bytes,
    activeUsers: row.active_users,
    estimatedCost: priceMonth(prices, { plan: row.plan, seats: row.seats, addOns: row.add_ons }, { bandwidthBytes: row.bandwidth_bytes, computeMs: row.compute_ms }),
  };
}
