import type { OperationTypeNode } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Organization, Role } from './generated/prisma/client';
import type { Database } from './db/client';
import type { SystemDatabase } from './db/system';
import { HeldTransaction } from './db/request-transaction';
import { sendQuery } from './db/send-query';
import { createTenantClient, scopeStatement, type TenantClient } from './db/tenant';
import type pg from 'pg';
import { clientAddress } from './auth/client-address';
import { TokenError, type TokenClaims, type TokenVerifier } from './auth/tokens';
import { forbidden, unauthenticated } from './errors';
import { createLoaders, type Loaders } from './loaders';
import { addressAllowed, readSettings, type OrganizationSettings } from './settings';
import { enforceApiCallsQuota, quotaMonth } from './usage/api-calls-quota';
import type { UsageRecorder } from './usage/recorder';

/** Who is calling: verified from the bearer token, membership checked on this request. */
export interface Viewer {
  userId: string;
  organizationId: string;
  role: Role;
  /** The viewer's department and its ancestors, root last. */
  departmentPath: string[];
  /** A platform operator in a support session, acting with the rights of an admin. */
  support: boolean;
}

/** The active organization with its settings read over the defaults. */
export type ActiveOrganization = Omit<Organization, 'settings'> & { settings: OrganizationSettings };

export interface Context {
  /** Null for a request without an organization: it may introspect, and nothing else. */
  viewer: Viewer | null;
  /** The active organization and its settings, read once per request. */
  organization: ActiveOrganization | null;
  /** Set when the token carries the platform scope and its user is a listed platform operator. */
  platformOperator: { userId: string } | null;
  /**
   * The request's tenant client: every operation on it is scoped to the viewer's
   * organization by RLS. Resolvers reach tenant data only through this.
   */
  tenantDb(): TenantClient;
  /**
   * The system client, for platform operators' cross-organization actions only.
   * Throws FORBIDDEN for anyone else, so a resolver cannot reach it by accident.
   */
  platformDb(): SystemDatabase;
  loaders: Loaders;
  /** The client's IP address (see src/auth/client-address.ts). */
  clientAddress: string | null;
  /** Verified claims of the bearer token. */
  claims: TokenClaims | null;
  /**
   * Signs a short-lived support-session token (platform operators). Undefined when
   * tokens come from an external identity provider (no local secret).
   */
  signSupportToken?: SupportTokenSigner;
}

export type SupportTokenSigner = (input: { operatorId: string; organizationId: string }) => Promise<{ token: string; expiresAt: Date }>;

export interface ContextDependencies {
  db: Database;
  verifyToken: TokenVerifier;
  /** The admin path, for platform operators. Without it, platform operations are unavailable. */
  system?: SystemDatabase;
  /** CIDRs of proxies whose X-Forwarded-For is believed. */
  trustedProxies?: string[];
  /** The clock, for session timeouts. @default Date.now */
  now?: () => number;
  /** See Context.signSupportToken. */
  signSupportToken?: SupportTokenSigner;
  /**
   * The usage recorder's unwritten counts: with it, the API_CALLS quota is
   * enforced (QUOTA_EXCEEDED, 429). Without it, there is no quota check.
   */
  usage?: Pick<UsageRecorder, 'unflushedApiCalls'>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  return match[1];
}

/** What src/plugins/use-request-transaction.ts adds to the initial context, once the document is parsed. */
export interface RequestInitialContext {
  operationType?: OperationTypeNode;
}

/** One row with everything the request needs to know about its caller and organization. */
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
  /** The effective API_CALLS limit (override, else plan); null when unlimited or not asked for. */
  api_calls_limit: bigint | null;
  /** This month's API calls in usage_daily; null when there is no limit to check. */
  api_calls_used: bigint | null;
}

/** A request's held transaction, by request: src/plugins/use-request-transaction.ts ends any left over. */
const heldTransactions = new WeakMap<Request, HeldTransaction>();

/** The transaction that this request's access check left open, if it did (ending it again does nothing). */
export function heldTransactionOf(request: Request): HeldTransaction | undefined {
  return heldTransactions.get(request);
}

/**
 * PERF: the held read transaction runs its statements on generic plans. The
 * tenant is never a bind parameter (RLS reads it from app.current_org_id), so a
 * custom plan knows nothing a generic one does not but its parameters' values (a
 * LIMIT, a status filter). Yet with PostgreSQL's default (`auto`) the page of
 * projects was planned again on every execution, 0.5 ms of the backend's CPU
 * each (`Planning Time` of EXPLAIN EXECUTE under the runtime role): its generic
 * plan, costed for an unknown LIMIT, looks ten times dearer than the custom one,
 * so `auto` never picks it, though it is the same index scan
 * (`pg_prepared_statements`: 0 generic, 8 custom plans after 8 executions; 0.01
 * ms planning with force_generic_plan). Mutations keep `auto`: they plan little
 * and rarely.
 */
const GENERIC_PLANS = 'SET LOCAL plan_cache_mode = force_generic_plan';

/**
 * PERF: the membership, the department path (for restricted projects), the
 * organization's settings, the platform-operator check and the API_CALLS quota
 * in one query, app.request_access() (a PL/pgSQL function, so that its plan is
 * cached per connection: planning the query as text cost more than running it;
 * see prisma/migrations/20261127040000_request_access), sent with its
 * transaction as ONE message, `BEGIN READ ONLY; SET LOCAL …; <query>`:
 *
 * - for a query operation (`hold`), the transaction stays open: the function has
 *   also set the member's role and department path (migration
 *   20261127050000_request_access_scopes), so it is the request's scoped read
 *   transaction, and Prisma runs the request's reads in it
 *   (src/db/request-transaction.ts). Access check, BEGIN and scope: one round trip.
 * - otherwise `; COMMIT` ends the message, and mutations open their own
 *   transactions (they commit field by field).
 *
 * No Prisma operation is on this path. RLS scopes the query exactly as it scopes
 * the tenant client: same role, same SET LOCAL statement.
 *
 * The simple query protocol takes no bind parameters, so the values are
 * literals. SECURITY: every one is validated first (UUIDs, ISO dates) and then
 * quoted by the driver's escapeLiteral.
 *
 * The quota is the override if the organization has one (its NULL is
 * unlimited), else its plan's limit, and this month's usage_daily sum: an
 * index-only scan of at most 31 entries (migration 20261127030200_usage), and
 * only when there is a limit.
 */
async function loadAccess(
  db: Database,
  scope: { organizationId: string; userId: string },
  options: { support: boolean; checkOperator: boolean; checkQuota: boolean; month: { from: string; until: string }; hold: boolean },
): Promise<{ access: AccessRow | null; held?: HeldTransaction }> {
  const { support, checkOperator, checkQuota, month, hold } = options;
  const setScope = scopeStatement(scope);
  for (const day of [month.from, month.until]) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`loadAccess: not an ISO date: ${JSON.stringify(day)}`);
  }
  const client = await db.pool.connect();
  const literal = (value: string) => client.escapeLiteral(value);
  const query = `SELECT * FROM app.request_access(${literal(scope.userId)}::uuid, ${support}, ${checkOperator}, ${checkQuota}, ${literal(month.from)}::date, ${literal(month.until)}::date)`;
  const message = hold ? `BEGIN READ ONLY; ${setScope}; ${GENERIC_PLANS}; ${query}` : `BEGIN READ ONLY; ${setScope}; ${query}; COMMIT`;
  let results: pg.QueryResult[];
  try {
    results = (await sendQuery(client, message)) as unknown as pg.QueryResult[];
  } catch (error) {
    // A failed statement leaves the message's transaction open and aborted: roll
    // it back, or destroy the connection, before it goes back to the pool.
    const rolledBack = await sendQuery(client, 'ROLLBACK').then(() => true, () => false);
    client.release(rolledBack ? undefined : true);
    throw error;
  }
  const row = results[results.length - (hold ? 1 : 2)].rows[0] as (Omit<AccessRow, 'api_calls_limit' | 'api_calls_used'> & { api_calls_limit: string | null; api_calls_used: string | null }) | undefined;
  const held = hold ? db.holdTransaction(client) : undefined;
  if (!hold) client.release();
  if (!row) {
    await held?.end('ROLLBACK');
    return { access: null };
  }
  // int8 arrives as a string from node-postgres.
  const access = {
    ...row,
    api_calls_limit: row.api_calls_limit === null ? null : BigInt(row.api_calls_limit),
    api_calls_used: row.api_calls_used === null ? null : BigInt(row.api_calls_used),
  };
  return { access, held };
}

export function createContextFactory({ db, verifyToken, system, trustedProxies = [], now = Date.now, signSupportToken, usage }: ContextDependencies) {
  const platformDb = (operator: Context['platformOperator']) => () => {
    if (!operator) throw forbidden('Only platform operators may do this');
    if (!system) throw new Error('Platform operations need DATABASE_ADMIN_URL');
    return system;
  };

  return async function createContext(initial: YogaInitialContext & { req?: IncomingMessage }): Promise<Context> {
    const { request } = initial;
    const address = clientAddress(request, initial.req?.socket?.remoteAddress, trustedProxies);
    const token = bearerToken(request);
    const anonymous = (claims: TokenClaims | null, operator: Context['platformOperator']): Context => {
      // Fails closed: no organization, so the tenant client sees no tenant rows.
      const tenantDb = createTenantClient(db.prisma, { organizationId: null, userId: claims?.sub ?? null });
      return {
        viewer: null,
        organization: null,
        platformOperator: operator,
        tenantDb: () => tenantDb,
        platformDb: platformDb(operator),
        loaders: createLoaders(tenantDb, null),
        clientAddress: address,
        claims,
        signSupportToken,
      };
    };
    if (!token) return anonymous(null, null);

    const claims = await verifyToken(token).catch((error: unknown) => {
      if (error instanceof TokenError) throw unauthenticated(error.message);
      throw error;
    });
    if (!UUID.test(claims.sub)) throw unauthenticated('Invalid token: sub is not a user id');
    const claimsPlatform = claims.platform === true;

    if (claims.org === undefined && claimsPlatform) {
      // A platform operator outside any organization.
      const probe = createTenantClient(db.prisma, { organizationId: null, userId: claims.sub });
      const [{ operator }] = await probe.$queryRaw<{ operator: boolean }[]>`SELECT app.is_platform_operator(${claims.sub}::uuid) AS operator`;
      if (!operator) throw forbidden('You are not a platform operator');
      return anonymous(claims, { userId: claims.sub });
    }
    if (typeof claims.org !== 'string' || !UUID.test(claims.org)) {
      throw unauthenticated('Invalid token: the org claim must name the active organization');
    }

    const requestedAt = now();
    const { access, held } = await loadAccess(
      db,
      { organizationId: claims.org, userId: claims.sub },
      {
        support: claims.support === true,
        checkOperator: claimsPlatform,
        checkQuota: usage !== undefined,
        month: quotaMonth(requestedAt),
        hold: (initial as RequestInitialContext).operationType === 'query',
      },
    );
    // Whatever happens from here on, the transaction ends: the plugin's onResponse ends one left over.
    if (held) heldTransactions.set(initial.request, held);
    // Every refusal below ends the held transaction first.
    const refuse = async (error: unknown): Promise<never> => {
      await held?.end('ROLLBACK');
      throw error;
    };
    const operator = access?.platform_operator ? { userId: claims.sub } : null;
    const support = claims.support === true && operator !== null;
    // SECURITY: the token alone is not enough; membership is checked on every
    // request, so a removed member loses access at once. A support session acts
    // as an admin (or keeps OWNER, if the operator happens to be the owner):
    // app.request_access() applies that rule, the one that also sets the role
    // of the held transaction.
    const role = (access?.role ?? null) as Role | null;
    if (!access || !role) return refuse(forbidden('You are not a member of this organization'));

    const settings = readSettings(access.settings);
    const { security } = settings;
    if (security.sessionTimeout !== null) {
      const age = now() / 1000 - (claims.iat ?? 0);
      if (!claims.iat || age > security.sessionTimeout) return refuse(unauthenticated('Session expired'));
    }
    // A support session is authenticated by the platform, not by the organization's
    // identity provider, so its SSO rule does not apply; its IP allow-list does.
    if (security.enforceSSO && !support && !(claims.amr ?? []).includes('sso')) {
      return refuse(unauthenticated('This organization requires single sign-on (SSO)'));
    }
    if (security.allowedIPs.length > 0 && !(address && addressAllowed(address, security.allowedIPs))) {
      return refuse(forbidden('IP address not allowed for this organization'));
    }
    // A support session is the platform's work, not the organization's: neither refused nor counted (src/plugins/use-usage.ts).
    if (usage && !support) {
      try {
        enforceApiCallsQuota(usage, { organizationId: claims.org, limit: access.api_calls_limit, written: access.api_calls_used, now: requestedAt });
      } catch (error) {
        return refuse(error);
      }
    }

    const viewer: Viewer = { userId: claims.sub, organizationId: claims.org, role, departmentPath: access.department_path, support };
    const tenantDb = createTenantClient(db.prisma, {
      organizationId: viewer.organizationId,
      userId: viewer.userId,
      role: viewer.role,
      departmentPath: viewer.departmentPath,
      // Read by the event triggers of mutations only (a held transaction is read-only and scoped already).
      meta: held ? undefined : { ip: address, userAgent: request.headers.get('user-agent'), requestId: request.headers.get('x-request-id'), support },
    }, { held });
    const loaders = createLoaders(tenantDb, viewer.organizationId);
    const organization: ActiveOrganization = {
      id: access.id,
      slug: access.slug,
      name: access.name,
      settings,
      createdAt: access.created_at,
      updatedAt: access.updated_at,
    };
    // Cached for this request only: a settings change is seen by the next one.
    loaders.organization.prime(organization.id, { ...organization, settings: access.settings as Organization['settings'] });
    return {
      viewer,
      organization,
      platformOperator: operator,
      tenantDb: () => tenantDb,
      platformDb: platformDb(operator),
      loaders,
      clientAddress: address,
      claims,
      signSupportToken,
    };
  };
}
