import type { Plugin } from 'graphql-yoga';
import type { TokenVerifier } from '../auth/tokens';
import { OrganizationConcurrency, type ConcurrencyOptions, type Release } from '../limits/concurrency';

/**
 * The per-caller concurrency limit (src/limits/concurrency.ts) on the GraphQL
 * endpoint, applied when the request arrives, before its body is read: a
 * request waiting for its turn costs no CPU and no connection. The caller is
 * the organization of a verified token (the verifier caches its answers, so the
 * context's own verification costs nothing more); a request without a valid
 * token counts as "anonymous", one bucket for all of them with its own limit,
 * so an invalid token buys nothing. A platform operator outside any
 * organization counts as their user. The turn is given back when the response
 * is ready, or when the client goes away.
 */
export interface OrganizationConcurrencyOptions extends ConcurrencyOptions {
  verifyToken: TokenVerifier;
  /** The GraphQL endpoint's path. @default '/graphql' */
  endpoint?: string;
  /** ANONYMOUS_CONCURRENCY: requests without a valid token processed at once, all together. @default 2 */
  anonymousLimit?: number;
}

async function callerOf(request: Request, verifyToken: TokenVerifier): Promise<string> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  if (!match) return 'anonymous';
  try {
    const claims = await verifyToken(match[1]);
    if (typeof claims.org === 'string') return `org:${claims.org.toLowerCase()}`;
    return `user:${claims.sub}`;
  } catch {
    return 'anonymous';
  }
}

export function useOrganizationConcurrency({ verifyToken, endpoint = '/graphql', anonymousLimit = 2, ...options }: OrganizationConcurrencyOptions): Plugin & { limiter: OrganizationConcurrency } {
  const limiter = new OrganizationConcurrency(options);
  const turns = new WeakMap<Request, Release>();
  const release = (request: Request) => {
    turns.get(request)?.();
    turns.delete(request);
  };
  return {
    limiter,
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      const caller = await callerOf(request, verifyToken);
      try {
        turns.set(request, await limiter.acquire(caller, request.signal, caller === 'anonymous' ? anonymousLimit : options.limit));
      } catch (error) {
        if (request.signal?.aborted) return endResponse(new fetchAPI.Response(null, { status: 499 }));
        const { message, extensions } = error as { message: string; extensions: { http: { status: number; headers: Record<string, string> } } };
        return endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { ...extensions, http: undefined } }] }), {
            status: extensions.http.status,
            headers: { 'content-type': 'application/json', ...extensions.http.headers },
          }),
        );
      }
      request.signal?.addEventListener('abort', () => release(request), { once: true });
    },
    onResponse({ request }) {
      release(request);
    },
  };
}
