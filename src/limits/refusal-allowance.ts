/**
 * How many refused requests (a body over the limit, a document that does not
 * parse or validate, QUERY_TOO_COMPLEX) a caller may get answered without a
 * cooldown: a token bucket per caller, `perSecond` refilled each second up to
 * twice that. A client that is refused now and then never notices it; one that
 * loops on refusals has used its allowance within two seconds, and from then on
 * each of its refusals keeps the caller's turn for the cooldown
 * (src/plugins/use-organization-concurrency.ts).
 *
 * Bounded: at most `maxCallers` buckets are kept, the least recently refused
 * dropped first (a dropped caller starts again with a full allowance).
 */
export class RefusalAllowance {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly maxCallers = 10_000,
  ) {}

  /** Takes one refusal from the caller's allowance: false when there was none left. */
  take(caller: string): boolean {
    const capacity = this.perSecond * 2;
    const now = this.now();
    const bucket = this.#buckets.get(caller);
    const tokens = bucket ? Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond) : capacity;
    // Re-inserted: the map's order is the order of last refusal.
    this.#buckets.delete(caller);
    const allowed = tokens >= 1;
    this.#buckets.set(caller, { tokens: allowed ? tokens - 1 : tokens, at: now });
    if (this.#buckets.size > this.maxCallers) this.#buckets.delete(this.#buckets.keys().next().value!);
    return allowed;
  }
}
