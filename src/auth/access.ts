import type { Role } from '../generated/prisma/client';
import type { RequestScope } from '../db/request-scope';
import { scopeStatement } from '../db/tenant';
import type { AccessCache, CachedAccess } from './access-cache';

/**
 * The access check: one query, app.request_access() (a PL/pgSQL function, so
 * that its plan is cached per connection; prisma/migrations/
 * 20261127040000_request_access and 20261127050000_request_access_scopes),
 * sent with its transaction as ONE message by the request's scope
 * (src/db/request-scope.ts): `BEGIN READ ONLY; SET LOCAL …; <query>`. It reads
 * the membership, the department path, the organization and its settings, the
 * platform-operator check and the API_CALLS quota, and sets the member's role
 * and department path on the transaction, which a query's reads then use.
 * RLS scopes it exactly as it scopes the tenant client: same role, same SET LOCAL.
 *
 * The quota is the override if the organization has one (its NULL is
 * unlimited), else its plan's limit, and this month's usage_daily sum: an
 * index-only scan of at most 31 entries, and only when there is a limit.
 */
export interface Access {
  organization: { id: string; slug: string; name: string; settings: unknown; createdAt: Date; updatedAt: Date };
  /** Null when the user is not a member (nor a platform operator in a support session). */
  role: Role | null;
  /** The member's department and its ancestors, root last. */
  departmentPath: string[];
  platformOperator: boolean;
  /** The effective API_CALLS limit (override, else plan); null when unlimited or not asked for. */
  apiCallsLimit: bigint | null;
  /** This month's API calls in usage_daily; null when there is no limit to check. */
  apiCallsWritten: bigint | null;
}

export interface AccessQuestion {
  organizationId: string;
  userId: string;
  /** A platform operator's support session: acts as an admin. */
  support: boolean;
  checkOperator: boolean;
  checkQuota: boolean;
  /** The quota's month, `YYYY-MM-DD` each. */
  month: { from: string; until: string };
  /** When the request was made (ms): how old a remembered API_CALLS usage is. */
  at: number;
}

/**
 * PERF: a query's reads run on generic plans. The tenant is never a bind
 * parameter (RLS reads it from app.current_org_id), so a custom plan knows
 * nothing a generic one does not but its parameters' values; with `auto`, the
 * page of projects was planned again on every execution
 * (docs/adr/0005-generic-plans.md). Mutations keep `auto`.
 */
const GENERIC_PLANS = 'SET LOCAL plan_cache_mode = force_generic_plan';

/** The row app.request_access() returns (int8 arrives as a string from node-postgres). */
interface AccessRow {
  id: string;
  slug: string;
  name: string;
  settings: unknown;
  created_at: Date;
  updated_at: Date;
  role: Role | null;
  department_path: string[];
  platform_operator: boolean;
  api_calls_limit: string | null;
  api_calls_used: string | null;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A remembered check's confirmation, sent as a prepared statement (planned once
 * per connection: ADR 0100). Its organization is a bind parameter; RLS lets it
 * read the row of the organization that the scope before it set.
 */
const ACCESS_VERSION = 'SELECT version::text FROM access_versions WHERE organization_id = $1::uuid';

/**
 * The same, with this month's API_CALLS in usage_daily (an index-only scan of at
 * most 31 entries): sent instead when the remembered usage is older than the
 * cache's maxAgeMs, so that what other gateway processes wrote is seen without
 * the full check.
 */
const ACCESS_VERSION_AND_API_CALLS =
  'SELECT v.version::text, (SELECT COALESCE(sum(u.api_calls), 0) FROM usage_daily u WHERE u.organization_id = $1::uuid AND u.day >= $2::date AND u.day < $3::date)::text AS api_calls_written FROM access_versions v WHERE v.organization_id = $1::uuid';

/** The usage recorder's counts that the quota adds to usage_daily's (src/usage/recorder.ts). */
export interface ApiCallCounts {
  unflushedApiCalls(organizationId: string, sinceDay: string): number;
  countedApiCalls(organizationId: string, monthFrom: string): number;
}

export interface AccessCheckOptions {
  /** Access checks remembered by version (./access-cache.ts); without it, every request runs the full check. */
  cache?: AccessCache;
  /** With them, `apiCallsUsed` adds what is counted but not written yet. */
  counts?: ApiCallCounts;
}

/** Access, and the API_CALLS usage to compare with its limit (null when there is no limit to check). */
export interface CheckedAccess extends Access {
  apiCallsUsed: number | null;
}

/**
 * Runs the access check in the request's scope. Null when the organization is
 * not visible to the user (not a member, or no such organization). SECURITY:
 * every value is validated (UUIDs by scopeStatement, ISO days here) and then
 * quoted by the driver's escapeLiteral.
 *
 * PERF: with a cache, a member's repeated requests send, in the message that
 * begins the transaction, the scope the last check set (role and department
 * path included) and a read of the organization's access version instead of
 * app.request_access(). A query does not wait for it: the message leaves with
 * the query's first statement, and if the version moved, what the query read
 * is withheld and the query runs again after the full check
 * (RequestScope.openRemembered). When the entry's API_CALLS usage is older than
 * the cache's maxAgeMs, the same message reads the usage again: the entry is
 * brought up to date, and if the usage read would refuse what the remembered
 * one let through, the query is not confirmed either. Any other operation waits
 * for the version; when it moved, or the entry is missing or its usage old, the
 * full check runs in a transaction of its own.
 */
export async function checkAccess(scope: RequestScope, question: AccessQuestion, { cache, counts }: AccessCheckOptions = {}): Promise<CheckedAccess | null> {
  const { organizationId, userId, support, checkOperator, checkQuota, month, at } = question;
  const setScope = scopeStatement({ organizationId, userId });
  for (const day of [month.from, month.until]) {
    if (!ISO_DAY.test(day)) throw new Error(`checkAccess: not an ISO date: ${JSON.stringify(day)}`);
  }
  const versionQuery = (literal: (value: string) => string) => `SELECT version::text FROM access_versions WHERE organization_id = ${literal(organizationId)}::uuid`;
  const accessQuery = (literal: (value: string) => string) =>
    `SELECT * FROM app.request_access(${literal(userId)}::uuid, ${support}, ${checkOperator}, ${checkQuota}, ${literal(month.from)}::date, ${literal(month.until)}::date)`;
  const cacheable = cache !== undefined && !support && !checkOperator;
  const cached = cacheable ? usable(cache.get(organizationId, userId), organizationId, month.from, checkQuota ? counts : undefined) : undefined;

  let versionRows: { version: string }[];
  let accessRows: AccessRow[];
  // The remembered API_CALLS usage is old: other gateway processes' calls since are not in it.
  const usageOld = cached !== undefined && cache !== undefined && checkQuota && counts !== undefined && cached.apiCallsUsed !== null && at - cached.usageReadAt >= cache.maxAgeMs;
  if (cached && cache && scope.holds) {
    const { role, departmentPath } = cached.access;
    const setCached = scopeStatement({ organizationId, userId, role: role ?? undefined, departmentPath });
    const remembered = fromCache(cached, organizationId, month.from, checkQuota ? counts : undefined);
    // A query goes on with what is remembered; the version is read in the message its first statement travels
    // with, and what it read counts only if the version is the one remembered (src/db/request-scope.ts).
    const check = usageOld
      ? { text: ACCESS_VERSION_AND_API_CALLS, values: [organizationId, month.from, month.until] }
      : { text: ACCESS_VERSION, values: [organizationId] };
    await scope.openRemembered([setCached, GENERIC_PLANS], check, (rows) => {
      const row: { version?: string; api_calls_written?: string } | undefined = rows[0];
      if (row?.version !== cached.version) {
        cache.delete(organizationId, userId);
        return false;
      }
      if (!usageOld || !counts || row.api_calls_written === undefined) return true;
      const refreshed: CachedAccess = {
        ...cached,
        apiCallsUsed: Number(row.api_calls_written) + counts.unflushedApiCalls(organizationId, month.from),
        apiCallsCounted: counts.countedApiCalls(organizationId, month.from),
        usageReadAt: at,
      };
      cache.set(organizationId, userId, refreshed);
      // Usage only grows within a month: the usage read now can refuse what the remembered one let through,
      // never the other way round. Then the query's reads do not count, and it starts again on the entry just read.
      const limit = cached.access.apiCallsLimit === null ? null : Number(cached.access.apiCallsLimit);
      const used = fromCache(refreshed, organizationId, month.from, counts).apiCallsUsed;
      return limit === null || used === null || (remembered.apiCallsUsed ?? 0) >= limit || used < limit;
    });
    return remembered;
  }
  if (cached && !usageOld) {
    const { role, departmentPath } = cached.access;
    const setCached = scopeStatement({ organizationId, userId, role: role ?? undefined, departmentPath });
    // Not a query: its transaction commits with this message, and the version is waited for.
    const [rows] = await scope.openWith([setCached], (literal) => [versionQuery(literal)]);
    versionRows = rows as { version: string }[];
    if (versionRows[0]?.version === cached.version) return fromCache(cached, organizationId, month.from, checkQuota ? counts : undefined);
    cache?.delete(organizationId, userId);
    [versionRows, accessRows] = (await scope.openWith([setScope], (literal) => [versionQuery(literal), accessQuery(literal)])) as [{ version: string }[], AccessRow[]];
  } else {
    const setup = scope.holds ? [setScope, GENERIC_PLANS] : [setScope];
    [versionRows, accessRows] = (await scope.openWith(setup, (literal) => [versionQuery(literal), accessQuery(literal)])) as [{ version: string }[], AccessRow[]];
  }
  const row = accessRows[0];
  if (!row) return null;
  const access: Access = {
    organization: { id: row.id, slug: row.slug, name: row.name, settings: row.settings, createdAt: row.created_at, updatedAt: row.updated_at },
    role: row.role,
    departmentPath: row.department_path,
    platformOperator: row.platform_operator,
    apiCallsLimit: row.api_calls_limit === null ? null : BigInt(row.api_calls_limit),
    apiCallsWritten: row.api_calls_used === null ? null : BigInt(row.api_calls_used),
  };
  const apiCallsUsed =
    access.apiCallsLimit === null ? null : Number(access.apiCallsWritten ?? 0n) + (counts?.unflushedApiCalls(organizationId, month.from) ?? 0);
  // The version was read before the function in the same transaction: if a change committed in between, the
  // entry holds newer data under the older version, and the next request only looks once more.
  const version = versionRows[0]?.version;
  if (cacheable && cache && version !== undefined && row.role !== null) {
    cache.set(organizationId, userId, {
      version,
      access,
      apiCallsUsed,
      apiCallsCounted: counts?.countedApiCalls(organizationId, month.from) ?? 0,
      month: month.from,
      usageReadAt: at,
    });
  }
  return { ...access, apiCallsUsed };
}

/**
 * An entry that can stand for a check this month. When the recorder's count
 * shrank (it started counting again: a new month, its memory bound) the calls
 * since the check are unknown, so the entry cannot.
 */
function usable(cached: CachedAccess | undefined, organizationId: string, monthFrom: string, counts: ApiCallCounts | undefined): CachedAccess | undefined {
  if (!cached || cached.month !== monthFrom) return undefined;
  if (cached.apiCallsUsed !== null && counts && counts.countedApiCalls(organizationId, monthFrom) < cached.apiCallsCounted) return undefined;
  return cached;
}

/** A cached check, its API_CALLS usage brought up to date with what this process counted since. */
function fromCache(cached: CachedAccess, organizationId: string, monthFrom: string, counts: ApiCallCounts | undefined): CheckedAccess {
  if (cached.apiCallsUsed === null || !counts) return { ...cached.access, apiCallsUsed: cached.apiCallsUsed };
  return { ...cached.access, apiCallsUsed: cached.apiCallsUsed + counts.countedApiCalls(organizationId, monthFrom) - cached.apiCallsCounted };
}
