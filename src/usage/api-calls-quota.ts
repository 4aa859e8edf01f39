import { GraphQLError } from 'graphql';
import { monthStart, utcDay } from './days';

/**
 * The API_CALLS quota: operations per organization per UTC month.
 *
 * PERF: checking it costs no round trip. The request's access query (src/auth/access.ts) returns the effective limit and this month's usage_daily
 * sum with everything else it reads; the recorder adds what it has counted
 * but not written yet. Each gateway process knows only its own unwritten
 * counts, so with N processes an organization can overshoot by up to N flush
 * windows: a limit, not an exact meter.
 */

let lastMonth: { startMs: number; endMs: number; days: Readonly<{ from: string; until: string }> } | undefined;

/**
 * The month the quota counts: its first day and the next month's, `YYYY-MM-DD`.
 * PERF: asked twice on every request, and the answer changes once a month:
 * the last one is kept while `now` is inside it.
 */
export function quotaMonth(now: number): Readonly<{ from: string; until: string }> {
  if (!lastMonth || now < lastMonth.startMs || now >= lastMonth.endMs) {
    const start = monthStart(now).getTime();
    const end = monthStart(now, 1).getTime();
    lastMonth = { startMs: start, endMs: end, days: Object.freeze({ from: utcDay(start), until: utcDay(end) }) };
  }
  return lastMonth.days;
}

/**
 * QUOTA_EXCEEDED like the other quotas (resource, limit, used), and since it
 * refuses the whole request, HTTP 429 with Retry-After and `extensions.resetAt`:
 * the start of next month (UTC).
 */
export function apiCallsQuotaExceeded({ limit, used }: { limit: number; used: number }, now: number): GraphQLError {
  const resetAt = monthStart(now, 1);
  const retryAfter = Math.max(1, Math.ceil((resetAt.getTime() - now) / 1000));
  return new GraphQLError(`API call limit reached (${limit.toLocaleString('en-US')} this month). It resets at ${resetAt.toISOString()}; upgrade for more.`, {
    extensions: {
      code: 'QUOTA_EXCEEDED',
      resource: 'API_CALLS',
      limit,
      used,
      resetAt: resetAt.toISOString(),
      http: { status: 429, headers: { 'Retry-After': String(retryAfter) } },
    },
  });
}
