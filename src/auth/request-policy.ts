import type { GraphQLError } from 'graphql';
import { forbidden, unauthenticated } from '../errors';
import { addressAllowed, type OrganizationSettings } from '../settings';
import { apiCallsQuotaExceeded } from '../usage/api-calls-quota';

/** What the organization's request policy decides on: nothing here touches the database. */
export interface PolicyInput {
  security: OrganizationSettings['security'];
  /** The token's issue time (seconds) and authentication methods. */
  claims: { iat?: number; amr?: readonly string[] };
  /** A platform operator's support session. */
  support: boolean;
  /** The client's address, null when unknown. */
  address: string | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** The API_CALLS quota; absent when usage is not tracked. `limit` null is unlimited. */
  apiCalls?: { limit: number | null; used: number };
}

/**
 * The organization's rules for a request by one of its members, in order: the
 * session timeout, single sign-on, the IP allow-list, the API-call quota. The
 * first that refuses gives the error; null lets the request through.
 */
export function requestPolicy(input: PolicyInput): GraphQLError | null {
  return requestPolicyRefusal(input)?.error ?? null;
}

/** A refusal and why (for the audit log of denials, src/audit/access-denials.ts). */
export interface PolicyRefusal {
  error: GraphQLError;
  reason: 'session_expired' | 'sso_required' | 'ip_not_allowed' | 'quota_exceeded';
  quota?: { resource: 'API_CALLS'; limit: number; used: number };
}

export function requestPolicyRefusal({ security, claims, support, address, now, apiCalls }: PolicyInput): PolicyRefusal | null {
  if (security.sessionTimeout !== null) {
    const age = now / 1000 - (claims.iat ?? 0);
    if (!claims.iat || age > security.sessionTimeout) return { error: unauthenticated('Session expired'), reason: 'session_expired' };
  }
  // A support session is authenticated by the platform, not by the organization's
  // identity provider, so its SSO rule does not apply; its IP allow-list does.
  if (security.enforceSSO && !support && !(claims.amr ?? []).includes('sso')) {
    return { error: unauthenticated('This organization requires single sign-on (SSO)'), reason: 'sso_required' };
  }
  if (security.allowedIPs.length > 0 && !(address && addressAllowed(address, security.allowedIPs))) {
    return { error: forbidden('IP address not allowed for this organization'), reason: 'ip_not_allowed' };
  }
  // A support session is the platform's work, not the organization's: neither refused nor counted (src/plugins/use-usage.ts).
  if (apiCalls && !support && apiCalls.limit !== null && apiCalls.used >= apiCalls.limit) {
    return {
      error: apiCallsQuotaExceeded({ limit: apiCalls.limit, used: apiCalls.used }, now),
      reason: 'quota_exceeded',
      quota: { resource: 'API_CALLS', limit: apiCalls.limit, used: apiCalls.used },
    };
  }
  return null;
}
