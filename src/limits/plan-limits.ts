import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { OperationLimits } from './operation-limits';

/**
 * The operation limits of each plan (plan_operation_limits, migration
 * 20261204130100_plan_operation_limits) and of anonymous callers.
 *
 * PERF: the table is a few rows, read when the gateway is made and again every
 * five minutes (`tableRefreshMs`), on the request that finds it stale. An operation within the smallest limits of all plans
 * (`floor`, nearly all of them) needs nothing more. A larger one needs its
 * organization's plan: read in the request's scope, and remembered for a minute.
 */
export interface PlanLimitsOptions {
  pool: pg.Pool;
  /** ANONYMOUS_MAX_TOKENS: the token budget of a request without a token, checked before parsing. @default 1000 */
  anonymousMaxTokens?: number;
  /**
   * How long the table is kept: a change to plan_operation_limits applies within it.
   * @default 300_000
   */
  tableRefreshMs?: number;
  /** How long an organization's plan is kept: a change of plan applies within it. @default 60_000 */
  planRefreshMs?: number;
  now?: () => number;
}

/** Until the table is read (or when it cannot be): the FREE row of the migration, the strictest. */
const FALLBACK: OperationLimits = { tokens: 3000, depth: 10, aliases: 30, directives: 20, cost: 20_000 };

interface Row {
  plan: string;
  max_tokens: number;
  max_depth: number;
  max_aliases: number;
  max_directives: number;
  max_cost: number;
}

export class PlanLimits {
  #byPlan = new Map<string, OperationLimits>();
  #ceiling: OperationLimits = FALLBACK;
  #floor: OperationLimits = FALLBACK;
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;
  readonly #plans: LRUCache<string, string>;

  constructor(private readonly options: PlanLimitsOptions) {
    this.#plans = new LRUCache({ max: 10_000, ttl: options.planRefreshMs ?? 60_000 });
  }

  /**
   * Reads the table when it is older than `tableRefreshMs` (the gateway starts
   * reading it when it is made). Never throws: a failed read keeps what was known.
   */
  refresh(): Promise<void> | undefined {
    const now = (this.options.now ?? Date.now)();
    if (now - this.#loadedAt < (this.options.tableRefreshMs ?? 300_000)) return this.#loading ?? undefined;
    this.#loading ??= this.options.pool
      .query<Row>('SELECT plan, max_tokens, max_depth, max_aliases, max_directives, max_cost FROM plan_operation_limits')
      .then(({ rows }) => {
        this.#byPlan = new Map(rows.map((row) => [row.plan, { tokens: row.max_tokens, depth: row.max_depth, aliases: row.max_aliases, directives: row.max_directives, cost: row.max_cost }]));
        const all = [...this.#byPlan.values()];
        if (all.length) {
          const each = (pick: (...values: number[]) => number): OperationLimits => {
            const of = (key: keyof OperationLimits) => pick(...all.map((limits) => limits[key]));
            return { tokens: of('tokens'), depth: of('depth'), aliases: of('aliases'), directives: of('directives'), cost: of('cost') };
          };
          this.#ceiling = each(Math.max);
          this.#floor = each(Math.min);
        }
        this.#loadedAt = now;
      })
      .catch(() => undefined)
      .finally(() => (this.#loading = null));
    return this.#loading;
  }

  /** A plan's limits; an unknown plan gets the strictest known. */
  forPlan(plan: string): OperationLimits {
    return this.#byPlan.get(plan) ?? this.#byPlan.get('FREE') ?? FALLBACK;
  }

  /**
   * The largest limit of any plan: what a request with a token is held to
   * before its token is verified (parse and validation come first in Yoga).
   */
  ceiling(): OperationLimits {
    return this.#ceiling;
  }

  /**
   * The smallest limit of any plan: an operation within it is within every
   * plan's, and needs no look-up of its organization's plan.
   */
  floor(): OperationLimits {
    return this.#floor;
  }

  /** A caller without a token: the FREE plan's limits, and a small token budget. */
  anonymous(): OperationLimits {
    const free = this.forPlan('FREE');
    return { ...free, tokens: Math.min(free.tokens, this.options.anonymousMaxTokens ?? 1000) };
  }

  /** The organization's plan if it is remembered (no statement): the limits before parsing use it. */
  knownPlan(organizationId: string): string | undefined {
    return this.#plans.get(organizationId);
  }

  /** The organization's plan, read with `readPlan` (in its scope) at most once per `refreshMs`. */
  async planOf(organizationId: string, readPlan: () => Promise<string | null>): Promise<string> {
    const known = this.#plans.get(organizationId);
    if (known) return known;
    const plan = (await readPlan()) ?? 'FREE';
    this.#plans.set(organizationId, plan);
    return plan;
  }
}
