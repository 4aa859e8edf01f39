import { GraphQLError } from 'graphql';

/**
 * Fairness between tenants (issue 13): at most `limit` requests of one caller
 * (an organization; all anonymous callers together) are processed at a time:
 * body read, parsed, validated, executed. So one organization can take neither
 * every pooled connection (each admitted request holds at most one at a time:
 * a query's transaction, a mutation's writes one after another) nor all of the
 * event loop. Past the limit, up to `queue` requests wait (first come, first
 * served), unread, for at most `maxWaitMs`; beyond that, or after waiting that
 * long, TOO_MANY_CONCURRENT_REQUESTS, 429, with Retry-After.
 */
export interface ConcurrencyOptions {
  /** ORGANIZATION_CONCURRENCY: requests of one organization processed at once. @default half the pool, at least 2 */
  limit: number;
  /** ORGANIZATION_QUEUE: requests of one organization that may wait for a turn. @default 1000 */
  queue?: number;
  /** ORGANIZATION_QUEUE_WAIT_MS: how long one may wait. @default 20000 */
  maxWaitMs?: number;
}

interface Slot {
  running: number;
  waiting: Array<{ admit: () => void }>;
}

export type Release = () => void;

export function tooManyConcurrentRequests(limit: number, waitedMs: number | null): GraphQLError {
  const why = waitedMs === null ? 'and its queue is full' : `and none finished within ${waitedMs} ms`;
  return new GraphQLError(`Your organization already has ${limit} requests running ${why}. Retry shortly.`, {
    extensions: { code: 'TOO_MANY_CONCURRENT_REQUESTS', limit, http: { status: 429, headers: { 'Retry-After': '1' } } },
  });
}

export class OrganizationConcurrency {
  readonly #slots = new Map<string, Slot>();

  constructor(private readonly options: ConcurrencyOptions) {}

  /** Requests of the organization running now (tests, metrics). */
  running(organizationId: string): number {
    return this.#slots.get(organizationId)?.running ?? 0;
  }

  /**
   * Waits for a turn. The returned release must be called exactly once (it
   * ignores later calls); an aborted `signal` gives up the place in the queue.
   */
  async acquire(organizationId: string, signal?: AbortSignal, limit = this.options.limit): Promise<Release> {
    const { queue = 1_000, maxWaitMs = 20_000 } = this.options;
    let slot = this.#slots.get(organizationId);
    if (!slot) this.#slots.set(organizationId, (slot = { running: 0, waiting: [] }));
    const release = this.#releaser(organizationId, slot);
    if (slot.running < limit) {
      slot.running += 1;
      return release;
    }
    if (slot.waiting.length >= queue) throw tooManyConcurrentRequests(limit, null);
    const current = slot;
    await new Promise<void>((resolve, reject) => {
      const entry = {
        admit: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const leave = (error: unknown) => {
        const index = current.waiting.indexOf(entry);
        if (index >= 0) current.waiting.splice(index, 1);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(() => leave(tooManyConcurrentRequests(limit, maxWaitMs)), maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      current.waiting.push(entry);
    });
    // The releaser handed the turn over: `running` already counts this request.
    return release;
  }

  #releaser(organizationId: string, slot: Slot): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slot.waiting.shift();
      if (next) return next.admit();
      slot.running -= 1;
      if (slot.running === 0) this.#slots.delete(organizationId);
    };
  }
}
