import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { TokenVerifier } from '../auth/tokens';
import { callerOf } from '../auth/bearer';
import { OrganizationConcurrency, type ConcurrencyOptions, type Release } from '../limits/concurrency';
import { RefusalAllowance } from '../limits/refusal-allowance';

/**
 * The per-caller concurrency limit (src/limits/concurrency.ts) on the GraphQL
 * endpoint, applied when the request arrives, before its body is read: a
 * request waiting for its turn costs no CPU and no connection. The caller is
 * the organization of a verified token (callerOf, src/auth/bearer.ts); a
 * request without a valid token counts as "anonymous", one bucket for all of
 * them with its own limit. A platform operator outside any organization counts
 * as their user. The turn is given back when the response
 * is ready, or when the client goes away.
 *
 * Refused requests (a body over the limit, a document that does not parse or
 * validate, QUERY_TOO_COMPLEX) beyond the caller's allowance
 * (`refusalsPerSecond`, src/limits/refusal-allowance.ts) keep their turn for
 * `refusalCooldownMs` after the answer, whether or not the client stays. A
 * refusal is cheap but not free (the body is read, decoded and lexed), and a
 * caller that sends nothing but refusals in a loop would otherwise take a share
 * of the event loop as large as its concurrency limit: with the cooldown, at
 * most limit / cooldown refusals a second beyond the allowance (5 / 0.25 s =
 * 20 for a pool of 10). A client refused now and then is answered as before.
 * See docs/adr/0091-refusal-cooldown.md for the measurements.
 */
export interface OrganizationConcurrencyOptions extends ConcurrencyOptions {
  verifyToken: TokenVerifier;
  /** The GraphQL endpoint's path. @default '/graphql' */
  endpoint?: string;
  /** ANONYMOUS_CONCURRENCY: requests without a valid token processed at once, all together. @default 2 */
  anonymousLimit?: number;
  /** REFUSAL_COOLDOWN_MS: how long a refused request (see `refusedStatus`) beyond the allowance keeps its caller's turn after its answer; 0 for none. @default 250 */
  refusalCooldownMs?: number;
  /** REFUSALS_PER_SECOND: refused requests per caller answered without a cooldown (bursts of twice that). @default 10 */
  refusalsPerSecond?: number;
}

/**
 * Answers that refuse the request before it ran: the body, the operation's size (400, 413); and any
 * answer without `data` (onResultProcess below): a document that does not parse or validate is answered
 * 200 to a client that accepts only application/json.
 */
const refusedStatus = (status: number) => status === 400 || status === 413;

export function useOrganizationConcurrency({ verifyToken, endpoint = '/graphql', anonymousLimit = 2, refusalCooldownMs = 250, refusalsPerSecond = 10, ...options }: OrganizationConcurrencyOptions): Plugin & { limiter: OrganizationConcurrency } {
  const limiter = new OrganizationConcurrency(options);
  const turns = new WeakMap<Request, { caller: string; release: Release }>();
  const allowance = new RefusalAllowance(refusalsPerSecond);
  const refusedRequests = new WeakSet<Request>();
  const release = (request: Request) => {
    turns.get(request)?.release();
    turns.delete(request);
  };
  return {
    limiter,
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      const caller = (await callerOf(request, verifyToken)).key;
      try {
        turns.set(request, { caller, release: await limiter.acquire(caller, request.signal, caller === 'anonymous' ? anonymousLimit : options.limit) });
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
    onResultProcess({ request, result }) {
      // No `data` at all: the request failed before execution (an execution error leaves `data`, if only null).
      if (!Array.isArray(result) && !isAsyncIterable(result) && result.errors?.length && !('data' in result)) refusedRequests.add(request);
    },
    onResponse({ request, response }) {
      const turn = turns.get(request);
      // Not a 5xx: a database outage is not the caller's doing.
      const refused = refusedStatus(response.status) || (refusedRequests.has(request) && response.status < 500);
      if (turn && refusalCooldownMs > 0 && refused && !allowance.take(turn.caller)) {
        // Taken out of `turns` first: the client closing the connection (a 413 closes it) must not end the cooldown.
        turns.delete(request);
        setTimeout(turn.release, refusalCooldownMs).unref();
        return;
      }
      release(request);
    },
  };
}
