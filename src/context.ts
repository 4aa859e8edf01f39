import type { GraphQLError, OperationTypeNode } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Organization, Role } from './generated/prisma/client';
import type { Database } from './db/client';
import type { SystemDatabase } from './db/system';
import { RequestScope } from './db/request-scope';
import { createTenantClient, type TenantClient } from './db/tenant';
import { checkAccess, type ApiCallCounts } from './auth/access';
import type { AccessCache } from './auth/access-cache';
import { bearerToken } from './auth/bearer';
import { clientAddress } from './auth/client-address';
import { decodeJwt } from 'jose';
import { requestPolicyRefusal } from './auth/request-policy';
import { TokenError, type TokenClaims, type TokenVerifier } from './auth/tokens';
import type { Denial, DenialRecorder } from './audit/access-denials';
import { forbidden, unauthenticated } from './errors';
import { observationOf } from './ops/request-scope';
import { createLoaders, type Loaders } from './loaders';
import { readSettings, type OrganizationSettings } from './settings';
import { quotaMonth } from './usage/api-calls-quota';
import { createServices, type Services } from './domains/services';

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
  /** The gateway's clock (milliseconds since the epoch): resolvers read the time here, so tests can set it. */
  now(): number;
  /** Mail, DNS and HTTP for domains, invitations and signup (src/domains/services.ts). */
  services: Services;
  /**
   * A tenant client for an organization the caller is not (yet) a member of:
   * the one an invitation or a verified domain lets them join.
   * SECURITY: only for a write that a SECURITY DEFINER function has just vouched
   * for (app.invitation_by_token, app.verified_domain_owner); see src/signup/join.ts.
   */
  joiningDb(organizationId: string): TenantClient;
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
  usage?: ApiCallCounts;
  /** Access checks remembered by version (src/auth/access-cache.ts). @default none: every request runs the full check */
  accessCache?: AccessCache;
  /** See Context.services. @default createServices() with its defaults */
  services?: Services;
  /** Notes the refusals made here (bad token, not a member, the request policy) for the audit log (src/audit/access-denials.ts). */
  denials?: Pick<DenialRecorder, 'note'>;
}

/**
 * A token refused only because it expired: its signature was verified before
 * its times were (jose), so its subject and organization are the caller's.
 */
function expiredSession(token: string, error: TokenError): Denial | null {
  if (error.reason !== 'expired') return null;
  try {
    const { sub, org } = decodeJwt(token);
    return {
      reason: 'session_expired',
      userId: typeof sub === 'string' && UUID.test(sub) ? sub : null,
      organizationId: typeof org === 'string' && UUID.test(org) ? org : null,
    };
  } catch {
    return null;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What src/plugins/use-request-transaction.ts adds to the initial context, once the document is parsed. */
export interface RequestInitialContext {
  operationType?: OperationTypeNode;
  /** The owner of the request's transaction (src/db/request-scope.ts). */
  requestScope?: RequestScope;
}

export function createContextFactory({ db, verifyToken, system, trustedProxies = [], now = Date.now, signSupportToken, usage, accessCache, services = createServices(), denials }: ContextDependencies) {
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
        now,
        services,
        joiningDb: (organizationId) => createTenantClient(db.prisma, { organizationId, userId: claims?.sub ?? null }),
      };
    };
    if (!token) return anonymous(null, null);

    // A refusal is thrown as it always was; the denial is only noted (written once the response is out).
    const refuse = (error: GraphQLError, denial: Denial): GraphQLError => {
      denials?.note(request, { code: String(error.extensions.code), ...denial });
      return error;
    };
    const claims = await verifyToken(token).catch((error: unknown) => {
      if (error instanceof TokenError) throw refuse(unauthenticated(error.message), expiredSession(token, error) ?? { reason: 'invalid_token' });
      throw error;
    });
    if (!UUID.test(claims.sub)) throw refuse(unauthenticated('Invalid token: sub is not a user id'), { reason: 'invalid_token' });
    const claimsPlatform = claims.platform === true;

    if (claims.org === undefined && claimsPlatform) {
      // A platform operator outside any organization.
      const probe = createTenantClient(db.prisma, { organizationId: null, userId: claims.sub });
      const [{ operator }] = await probe.$queryRaw<{ operator: boolean }[]>`SELECT app.is_platform_operator(${claims.sub}::uuid) AS operator`;
      if (!operator) throw refuse(forbidden('You are not a platform operator'), { reason: 'not_a_platform_operator', userId: claims.sub });
      return anonymous(claims, { userId: claims.sub });
    }
    // Signed in, no organization yet: completeSignUp, acceptInvitation and
    // suggestedOrganizations are open to it, nothing else (src/signup/).
    if (claims.org === undefined) return anonymous(claims, null);
    if (typeof claims.org !== 'string' || !UUID.test(claims.org)) {
      throw refuse(unauthenticated('Invalid token: the org claim must name the active organization'), { reason: 'invalid_token', userId: claims.sub });
    }

    const requestedAt = now();
    // The request's transaction is the scope's: it opens it here and ends it on
    // every path, a refusal below included (src/db/request-scope.ts).
    const scope = (initial as RequestInitialContext).requestScope ?? new RequestScope(db, undefined);
    const month = quotaMonth(requestedAt);
    const access = await checkAccess(scope, {
      organizationId: claims.org,
      userId: claims.sub,
      support: claims.support === true,
      checkOperator: claimsPlatform,
      checkQuota: usage !== undefined,
      month,
      at: requestedAt,
    }, { cache: accessCache, counts: usage });
    const operator = access?.platformOperator ? { userId: claims.sub } : null;
    const support = claims.support === true && operator !== null;
    // SECURITY: the token alone is not enough; membership is checked on every
    // request, so a removed member loses access at once. A support session acts
    // as an admin (or keeps OWNER, if the operator happens to be the owner):
    // app.request_access() applies that rule, the one that also sets the role
    // of the held transaction.
    const role = access?.role ?? null;
    // A member removed (or a token for an organization its user never joined): app.record_access_denials() tells which.
    if (!access || !role) throw refuse(forbidden('You are not a member of this organization'), { reason: 'not_a_member', userId: claims.sub, organizationId: claims.org, support: claims.support === true });

    const settings = readSettings(access.organization.settings);
    const refusal = requestPolicyRefusal({
      security: settings.security,
      claims,
      support,
      address,
      now: requestedAt,
      apiCalls: usage && access.apiCallsLimit !== null ? { limit: Number(access.apiCallsLimit), used: access.apiCallsUsed ?? 0 } : undefined,
    });
    // A refusal made on a remembered check is only made once the check is confirmed; if it is not, the request starts again.
    if (refusal && !(await scope.confirmed())) return createContext(initial);
    if (refusal) {
      throw refuse(refusal.error, {
        reason: refusal.reason,
        userId: claims.sub,
        organizationId: claims.org,
        support,
        quota: refusal.quota,
      });
    }

    const viewer: Viewer = { userId: claims.sub, organizationId: claims.org, role, departmentPath: access.departmentPath, support };
    // The request log's id (the caller's X-Request-Id when it is a safe token, else a generated one).
    const observation = observationOf(request);
    const tenantDb = createTenantClient(db.prisma, {
      organizationId: viewer.organizationId,
      userId: viewer.userId,
      role: viewer.role,
      departmentPath: viewer.departmentPath,
      // Read by the event triggers of mutations only (a held transaction is read-only and scoped already).
      meta: scope.held ? undefined : { ip: address, userAgent: request.headers.get('user-agent'), requestId: observation?.id ?? request.headers.get('x-request-id'), support },
    }, { held: scope.held ?? undefined, counted: observation && !scope.held ? { attribution: db.attribution, counter: observation } : undefined });
    const loaders = createLoaders(tenantDb, viewer.organizationId);
    const organization: ActiveOrganization = { ...access.organization, settings };
    // Cached for this request only: a settings change is seen by the next one.
    loaders.organization.prime(organization.id, { ...organization, settings: access.organization.settings as Organization['settings'] });
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
      now,
      services,
      joiningDb: (organizationId) => createTenantClient(db.prisma, { organizationId, userId: claims.sub }),
    };
  };
}
