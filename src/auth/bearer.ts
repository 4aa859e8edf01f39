import { unauthenticated } from '../errors';
import type { TokenVerifier } from './tokens';

/** The token of an `Authorization: Bearer <token>` header; null without the header, UNAUTHENTICATED when it is malformed. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  return match[1];
}

/**
 * Who a request is for the limits that run before its context exists (src/plugins/use-organization-concurrency.ts,
 * src/plugins/use-operation-limits.ts): the organization of a verified token, a platform operator outside any
 * organization as their user, or "anonymous" for a request without a valid token, so an invalid token buys nothing.
 * The verifier caches its answers: the context's own verification costs nothing more.
 */
export interface Caller {
  key: string;
  organizationId: string | null;
}

const ANONYMOUS: Caller = { key: 'anonymous', organizationId: null };

const callers = new WeakMap<Request, Promise<Caller>>();

/** The request's caller, worked out once per request (both limits ask). */
export function callerOf(request: Request, verifyToken: TokenVerifier): Promise<Caller> {
  let caller = callers.get(request);
  if (!caller) callers.set(request, (caller = readCaller(request, verifyToken)));
  return caller;
}

async function readCaller(request: Request, verifyToken: TokenVerifier): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  if (!match) return ANONYMOUS;
  try {
    const claims = await verifyToken(match[1]);
    if (typeof claims.org === 'string') {
      const organizationId = claims.org.toLowerCase();
      return { key: `org:${organizationId}`, organizationId };
    }
    return { key: `user:${claims.sub}`, organizationId: null };
  } catch {
    return ANONYMOUS;
  }
}
