import type { Role } from '../generated/prisma/client';
import type { RequestScope } from '../db/request-scope';
import { scopeStatement } from '../db/tenant';

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
 * Runs the access check in the request's scope. Null when the organization is
 * not visible to the user (not a member, or no such organization). SECURITY:
 * every value is validated (UUIDs by scopeStatement, ISO days here) and then
 * quoted by the driver's escapeLiteral.
 */
export async function checkAccess(scope: RequestScope, question: AccessQuestion): Promise<Access | null> {
  const { organizationId, userId, support, checkOperator, checkQuota, month } = question;
  const setScope = scopeStatement({ organizationId, userId });
  for (const day of [month.from, month.until]) {
    if (!ISO_DAY.test(day)) throw new Error(`checkAccess: not an ISO date: ${JSON.stringify(day)}`);
  }
  const setup = scope.holds ? [setScope, GENERIC_PLANS] : [setScope];
  const rows = await scope.open(
    setup,
    (literal) =>
      `SELECT * FROM app.request_access(${literal(userId)}::uuid, ${support}, ${checkOperator}, ${checkQuota}, ${literal(month.from)}::date, ${literal(month.until)}::date)`,
  );
  const row = rows[0] as AccessRow | undefined;
  if (!row) return null;
  return {
    organization: { id: row.id, slug: row.slug, name: row.name, settings: row.settings, createdAt: row.created_at, updatedAt: row.updated_at },
    role: row.role,
    departmentPath: row.department_path,
    platformOperator: row.platform_operator,
    apiCallsLimit: row.api_calls_limit === null ? null : BigInt(row.api_calls_limit),
    apiCallsWritten: row.api_calls_used === null ? null : BigInt(row.api_calls_used),
  };
}
