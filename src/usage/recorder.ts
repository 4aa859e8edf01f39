import { dayClock } from './days';

/**
 * The usage recorder: counts each organization's API calls, response bytes,
 * execution time and active users in memory, per UTC day, and adds them to
 * usage_daily and usage_active_users in batches.
 *
 * PERF: a request only adds to a few numbers here; no database write is on its
 * path. A flush runs every second (and early after 1,000 API calls), as ONE
 * statement for all organizations: `SELECT app.record_usage($1::jsonb)`, a
 * SECURITY DEFINER function, because RLS confines the runtime role to one
 * organization per transaction. What a crash loses is what was counted since
 * the last flush: at most one interval, or 1,000 calls.
 *
 * A failed flush loses nothing: its counts go back into the pending ones and the
 * next tick tries again (the process keeps running; the error goes to onError).
 */

/** Anything that runs one parameterized statement: the runtime `pg.Pool` (`db.pool`). */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<unknown>;
}

export interface UsageRecorderOptions {
  /** Where the counters go: the runtime role's pool. No tenant scope is needed (see app.record_usage). */
  pool: Queryable;
  /**
   * Milliseconds between flushes; 0 for no timer (the caller flushes, as tests do).
   * @default 1000
   */
  flushIntervalMs?: number;
  /**
   * Flush early once this many API calls are pending; Infinity for never.
   * @default 1000
   */
  flushEveryCalls?: number;
  /** @default Date.now */
  now?: () => number;
  /** A flush that failed (its counts are kept and retried), or the last one on close() (they are lost). */
  onError?: (error: unknown, context: { lostApiCalls: number }) => void;
}

/** What one request (or a later chunk of a streamed response) adds. */
export interface RequestUsage {
  organizationId: string;
  userId: string;
  /** 1 for an operation; 0 for more bytes of a response already counted. */
  apiCalls: number;
  bandwidthBytes: number;
  computeMs: number;
}

export interface UsageRecorder {
  record(usage: RequestUsage): void;
  /** API calls of the organization since `sinceDay` (`YYYY-MM-DD`) that are not in usage_daily yet: pending or being written. */
  unflushedApiCalls(organizationId: string, sinceDay: string): number;
  /** Writes what is pending now; rejects (keeping the counts) when the statement fails. */
  flush(): Promise<void>;
  /** Stops the timer and flushes a last time. Never rejects: a failure goes to onError. */
  close(): Promise<void>;
}

interface Counters {
  apiCalls: number;
  bandwidthBytes: number;
  computeMs: number;
}

/** Counters by organization, then by day. */
type Counts = Map<string, Map<string, Counters>>;
/** Users by day, then by organization. */
type Users = Map<string, Map<string, Set<string>>>;

function inner<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}

function addCounters(into: Counts, organizationId: string, day: string, from: Counters): void {
  const counters = inner(inner(into, organizationId, () => new Map<string, Counters>()), day, () => ({ apiCalls: 0, bandwidthBytes: 0, computeMs: 0 }));
  counters.apiCalls += from.apiCalls;
  counters.bandwidthBytes += from.bandwidthBytes;
  counters.computeMs += from.computeMs;
}

/** Adds one day's users (by organization) to another such map. */
function addUsers(into: Map<string, Set<string>>, from: Map<string, Set<string>>): void {
  for (const [organizationId, users] of from) {
    const target = inner(into, organizationId, () => new Set<string>());
    for (const user of users) target.add(user);
  }
}

function apiCallsSince(counts: Counts | null, organizationId: string, sinceDay: string): number {
  let calls = 0;
  for (const [day, counters] of counts?.get(organizationId) ?? []) if (day >= sinceDay) calls += counters.apiCalls;
  return calls;
}

/** The argument of app.record_usage(jsonb). */
function payload(counts: Counts, users: Users) {
  const counters = [];
  for (const [organizationId, days] of counts) {
    for (const [day, c] of days) {
      // Fractions of a millisecond per request add up in memory; the table keeps whole ones.
      counters.push({ organization_id: organizationId, day, api_calls: c.apiCalls, bandwidth_bytes: c.bandwidthBytes, compute_ms: Math.round(c.computeMs) });
    }
  }
  const activeUsers = [];
  for (const [day, organizations] of users) {
    for (const [organizationId, ids] of organizations) for (const userId of ids) activeUsers.push({ organization_id: organizationId, day, user_id: userId });
  }
  return { counters, activeUsers };
}

export function createUsageRecorder({
  pool,
  flushIntervalMs = 1000,
  flushEveryCalls = 1000,
  now = Date.now,
  onError = (error, { lostApiCalls }) =>
    console.error(lostApiCalls ? `Usage: the last flush failed; ${lostApiCalls} API calls are lost:` : 'Usage: a flush failed; its counts are kept for the next one:', error),
}: UsageRecorderOptions): UsageRecorder {
  const today = dayClock(now);
  let pending: Counts = new Map();
  let pendingUsers: Users = new Map();
  /** The counts of the write in progress: not in the pending ones any more, not in usage_daily yet. */
  let writing: Counts | null = null;
  let callsSinceFlush = 0;
  // Users already written today: a user active all day is inserted once, not every second.
  let writtenDay = '';
  let writtenUsers = new Map<string, Set<string>>();

  async function write(): Promise<void> {
    const counts = pending;
    const users = pendingUsers;
    if (counts.size === 0 && users.size === 0) return;
    pending = new Map();
    pendingUsers = new Map();
    callsSinceFlush = 0;
    writing = counts;
    try {
      await pool.query('SELECT app.record_usage($1::jsonb)', [JSON.stringify(payload(counts, users))]);
      addUsers(writtenUsers, users.get(writtenDay) ?? new Map());
    } catch (error) {
      for (const [organizationId, days] of counts) for (const [day, counters] of days) addCounters(pending, organizationId, day, counters);
      for (const [day, organizations] of users) addUsers(inner(pendingUsers, day, () => new Map()), organizations);
      throw error;
    } finally {
      writing = null;
    }
  }

  // One write at a time; a flush asked for during one runs once after it, with whatever is pending then.
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  function flush(): Promise<void> {
    if (queued) return queued;
    if (!running) {
      running = write().finally(() => {
        running = null;
      });
      return running;
    }
    queued = running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return flush();
      });
    return queued;
  }

  const retryLater = (error: unknown) => onError(error, { lostApiCalls: 0 });
  const timer = flushIntervalMs > 0 ? setInterval(() => flush().catch(retryLater), flushIntervalMs) : null;
  // The timer alone must not keep the process alive; close() writes what is left.
  timer?.unref();

  return {
    record(usage) {
      const { organizationId, userId } = usage;
      const day = today();
      addCounters(pending, organizationId, day, usage);
      if (day !== writtenDay) {
        writtenDay = day;
        writtenUsers = new Map();
      }
      if (!writtenUsers.get(organizationId)?.has(userId)) {
        inner(inner(pendingUsers, day, () => new Map<string, Set<string>>()), organizationId, () => new Set<string>()).add(userId);
      }
      callsSinceFlush += usage.apiCalls;
      if (callsSinceFlush >= flushEveryCalls) {
        callsSinceFlush = 0;
        flush().catch(retryLater);
      }
    },
    unflushedApiCalls: (organizationId, sinceDay) => apiCallsSince(pending, organizationId, sinceDay) + apiCallsSince(writing, organizationId, sinceDay),
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush().catch((error: unknown) => {
        let lostApiCalls = 0;
        for (const days of pending.values()) for (const counters of days.values()) lostApiCalls += counters.apiCalls;
        onError(error, { lostApiCalls });
      });
    },
  };
}
