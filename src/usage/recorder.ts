import { dayClock } from './days';

/**
 * The usage recorder: counts each organization's API calls, response bytes,
 * execution time and active users in memory, per UTC day, and adds them to
 * usage_daily and usage_active_users in batches.
 *
 * PERF: a request only adds to a few numbers here; no database write is on its
 * path. A flush runs every second (and early after 1,000 API calls): on one
 * pooled connection, one message and one transaction for up to 200
 * organizations, each under its own scope: `BEGIN; SET LOCAL
 * app.current_org_id = …; SELECT app.record_usage(…); SET LOCAL …; …; COMMIT`.
 * app.record_usage (SECURITY DEFINER) writes the organization of its scope
 * only (migration 20261204135100_definer_hardening): the runtime role cannot
 * add usage to an organization it does not name as its scope. When such a
 * transaction fails, its organizations are written again one transaction each,
 * so one organization's bad row fails that organization's write alone, never
 * everyone's (ADR 0100). What a crash loses is what was counted since the last flush: at
 * most one interval, or 1,000 calls.
 *
 * A failed flush loses nothing that can be written later: its counts go back
 * into the pending ones and the next tick tries again, so a database outage of a
 * minute or more costs no counts. Memory is bounded (maxPendingEntries): beyond
 * it, the counts of organizations and days not yet pending are dropped, and the
 * log says how many. A write that the database refuses for its content (a data
 * or integrity error, a privilege error) would fail again: its counts are
 * dropped and logged. Ids are canonical (lower-case UUIDs); anything else is
 * dropped at record() and logged, so one spelling cannot become a second key.
 */

/** A pooled connection: what `pg.Pool#connect()` gives. */
export interface UsageConnection {
  query(text: string): Promise<unknown>;
  escapeLiteral(value: string): string;
  release(destroy?: boolean | Error): void;
}

/** The runtime `pg.Pool` (`db.pool`), or anything that hands out such connections. */
export interface Queryable {
  connect(): Promise<UsageConnection>;
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
  /**
   * Most organizations written in one transaction of a flush (each under its own
   * scope); a flush with more sends several. Their entries (counters and active
   * users) are bounded too, at 2,000 a transaction.
   * @default 200
   */
  organizationsPerTransaction?: number;
  /**
   * Most (organization, day) counters and (organization, day, user) entries held
   * in memory while the database cannot be written; beyond it new ones are dropped.
   * @default 100000
   */
  maxPendingEntries?: number;
  /**
   * A flush that failed, or the last one on close(): what it kept for the next
   * attempt and what it dropped (`lostApiCalls`).
   */
  onError?: (error: unknown, context: FlushFailure) => void;
}

export interface FlushFailure {
  /** API calls that are gone: refused by the database, over the memory bound, or left on close(). */
  lostApiCalls: number;
  /** API calls kept in memory for the next attempt. */
  keptApiCalls: number;
  /** Organizations whose write failed in this flush. */
  failedOrganizations: number;
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
  /**
   * API calls of the organization this process has counted in the month that
   * starts on `monthFrom` (`YYYY-MM-01`), written or not: it only grows within a
   * month. The access cache (src/auth/access-cache.ts) adds what it grew by since
   * the cached check to the usage read then.
   */
  countedApiCalls(organizationId: string, monthFrom: string): number;
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

/** The argument of app.record_usage(jsonb) for one organization. */
function payload(organizationId: string, days: Map<string, Counters> | undefined, users: Users) {
  const counters = [];
  for (const [day, c] of days ?? []) {
    // Fractions of a millisecond per request add up in memory; the table keeps whole ones.
    counters.push({ organization_id: organizationId, day, api_calls: c.apiCalls, bandwidth_bytes: c.bandwidthBytes, compute_ms: Math.round(c.computeMs) });
  }
  const activeUsers = [];
  for (const [day, organizations] of users) {
    for (const userId of organizations.get(organizationId) ?? []) activeUsers.push({ organization_id: organizationId, day, user_id: userId });
  }
  return { counters, activeUsers };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** SQLSTATE classes of a refusal that a retry would meet again: data (22), integrity (23), privilege (42501). */
function refusedForContent(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '42501');
}

/** Entries (counters and active users) per transaction of a flush, at most. */
const BATCH_ENTRIES = 2_000;

/** The organizations of a flush in transactions of bounded size: a message of at most a few hundred kB (about 100 bytes an entry). */
function* batches(organizations: readonly string[], counts: Counts, users: Users, maxOrganizations: number): Generator<string[]> {
  let batch: string[] = [];
  let counters = 0;
  for (const organizationId of organizations) {
    let size = counts.get(organizationId)?.size ?? 0;
    for (const byOrganization of users.values()) size += byOrganization.get(organizationId)?.size ?? 0;
    if (batch.length > 0 && (batch.length >= maxOrganizations || counters + size > BATCH_ENTRIES)) {
      yield batch;
      batch = [];
      counters = 0;
    }
    batch.push(organizationId);
    counters += size;
  }
  if (batch.length > 0) yield batch;
}

function callsOf(days: Map<string, Counters> | undefined): number {
  let calls = 0;
  for (const counters of days?.values() ?? []) calls += counters.apiCalls;
  return calls;
}

function describe(failure: FlushFailure): string {
  const kept = `kept ${failure.keptApiCalls} API calls for the next attempt`;
  return failure.lostApiCalls ? `${kept}, dropped ${failure.lostApiCalls}` : `${kept}, dropped none`;
}

export function createUsageRecorder({
  pool,
  flushIntervalMs = 1000,
  flushEveryCalls = 1000,
  organizationsPerTransaction = 200,
  now = Date.now,
  maxPendingEntries = 100_000,
  onError = (error, failure) =>
    console.error(`Usage: writing the counts of ${failure.failedOrganizations} organization(s) failed; ${describe(failure)}:`, String((error as Error)?.message ?? error)),
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

  /** Counters and user entries held (pending or being written), for the memory bound. */
  let heldEntries = 0;
  /** API calls dropped since the last report (memory bound, bad ids). */
  let droppedCalls = 0;
  /** countedApiCalls: per organization, this month; at most maxPendingEntries organizations (then it starts again, which the cache sees as a shrink). */
  let countedMonth = '';
  const counted = new Map<string, number>();

  function putBack(organizationId: string, days: Map<string, Counters> | undefined, users: Users): void {
    for (const [day, counters] of days ?? []) addCounters(pending, organizationId, day, counters);
    for (const [day, organizations] of users) {
      const ids = organizations.get(organizationId);
      if (ids) addUsers(inner(pendingUsers, day, () => new Map()), new Map([[organizationId, ids]]));
    }
  }

  /** `SET LOCAL app.current_org_id = …; SELECT app.record_usage(…)`: one organization's counts, in the transaction around it. */
  function organizationStatements(connection: UsageConnection, organizationId: string, days: Map<string, Counters> | undefined, users: Users): string {
    const json = JSON.stringify(payload(organizationId, days, users));
    // Simple protocol; both literals are ours (a checked UUID, JSON we built) and escaped.
    return `SET LOCAL app.current_org_id = ${connection.escapeLiteral(organizationId)}; SELECT app.record_usage(${connection.escapeLiteral(json)}::jsonb)`;
  }

  /** One organization's counts in one transaction scoped to it: one round trip. */
  async function writeOrganization(connection: UsageConnection, organizationId: string, days: Map<string, Counters> | undefined, users: Users): Promise<void> {
    await connection.query(`BEGIN; ${organizationStatements(connection, organizationId, days, users)}; COMMIT`);
  }

  /**
   * Several organizations' counts in ONE transaction, each under its own scope:
   * one round trip and one commit for all of them. On a failure the transaction
   * is rolled back (`connection` stays usable) or, when even that fails, the
   * connection is reported broken, with the error.
   */
  async function writeBatch(connection: UsageConnection, batch: readonly string[], counts: Counts, users: Users): Promise<'written' | 'failed' | { broken: unknown }> {
    const statements = batch.map((organizationId) => organizationStatements(connection, organizationId, counts.get(organizationId), users));
    try {
      await connection.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
      return 'written';
    } catch (error) {
      return (await connection.query('ROLLBACK').then(() => true, () => false)) ? 'failed' : { broken: error };
    }
  }

  function markWritten(organizationId: string, users: Users): void {
    addUsers(writtenUsers, new Map([[organizationId, users.get(writtenDay)?.get(organizationId) ?? new Set<string>()]]));
  }

  async function write(): Promise<void> {
    const counts = pending;
    const users = pendingUsers;
    if (counts.size === 0 && users.size === 0) return;
    pending = new Map();
    pendingUsers = new Map();
    callsSinceFlush = 0;
    writing = counts;
    const organizations = new Set<string>(counts.keys());
    for (const byOrganization of users.values()) for (const id of byOrganization.keys()) organizations.add(id);
    const failure: FlushFailure = { lostApiCalls: droppedCalls, keptApiCalls: 0, failedOrganizations: 0 };
    droppedCalls = 0;
    let firstError: unknown = null;
    let connection: UsageConnection | null = null;
    let broken = false;
    const keep = (organizationId: string) => {
      const days = counts.get(organizationId);
      putBack(organizationId, days, users);
      failure.keptApiCalls += callsOf(days);
      failure.failedOrganizations += 1;
    };
    try {
      // Sorted: two gateways flushing at once lock usage rows in the same order (no deadlock between them).
      for (const batch of batches([...organizations].sort(), counts, users, organizationsPerTransaction)) {
        if (!connection && !broken) {
          connection = await pool.connect().catch((error: unknown) => {
            firstError ??= error;
            broken = true;
            return null;
          });
        }
        if (!connection) {
          // No connection: everything left is kept for the next attempt.
          batch.forEach(keep);
          continue;
        }
        // PERF: one transaction for the batch (one commit, not one per organization: ADR 0100). When it fails,
        // each organization is written alone, so that one organization's bad row fails its own write only.
        if (batch.length > 1) {
          const outcome = await writeBatch(connection, batch, counts, users);
          if (outcome === 'written') {
            for (const organizationId of batch) markWritten(organizationId, users);
            continue;
          }
          if (outcome !== 'failed') {
            firstError ??= outcome.broken;
            connection.release(true);
            connection = null;
            broken = true;
            batch.forEach(keep);
            continue;
          }
        }
        for (const organizationId of batch) {
          const days = counts.get(organizationId);
          if (!connection) {
            keep(organizationId);
            continue;
          }
          try {
            await writeOrganization(connection, organizationId, days, users);
            markWritten(organizationId, users);
          } catch (error) {
            firstError ??= error;
            // The message's transaction is aborted (or the connection gone): roll back or drop the connection.
            const rolledBack = await connection.query('ROLLBACK').then(() => true, () => false);
            if (!rolledBack) {
              connection.release(true);
              connection = null;
              broken = true;
            }
            if (refusedForContent(error)) {
              failure.lostApiCalls += callsOf(days);
              failure.failedOrganizations += 1;
            } else keep(organizationId);
          }
        }
      }
    } finally {
      connection?.release();
      writing = null;
      heldEntries = countEntries();
    }
    if (firstError !== null) {
      lastFailure = failure;
      throw Object.assign(firstError as object, { usageFailure: failure });
    }
    if (failure.lostApiCalls > 0) onError(new Error('Usage: counts dropped'), failure);
  }

  /** The failure of the last write, for the callers that report it (the timer, close()). */
  let lastFailure: FlushFailure | null = null;

  function countEntries(): number {
    let entries = 0;
    for (const days of pending.values()) entries += days.size;
    for (const byOrganization of pendingUsers.values()) for (const ids of byOrganization.values()) entries += ids.size;
    return entries;
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

  const retryLater = (error: unknown) => {
    const failure = lastFailure ?? { lostApiCalls: 0, keptApiCalls: 0, failedOrganizations: 0 };
    lastFailure = null;
    onError(error, failure);
  };
  const timer = flushIntervalMs > 0 ? setInterval(() => flush().catch(retryLater), flushIntervalMs) : null;
  // The timer alone must not keep the process alive; close() writes what is left.
  timer?.unref();

  return {
    record(usage) {
      const organizationId = usage.organizationId.toLowerCase();
      const userId = usage.userId.toLowerCase();
      if (!UUID.test(organizationId) || !UUID.test(userId)) {
        droppedCalls += usage.apiCalls;
        return;
      }
      const day = today();
      const month = `${day.slice(0, 7)}-01`;
      if (month !== countedMonth || (counted.size >= maxPendingEntries && !counted.has(organizationId))) {
        countedMonth = month;
        counted.clear();
      }
      counted.set(organizationId, (counted.get(organizationId) ?? 0) + usage.apiCalls);
      // Bounded: a new counter while the database is unreachable and memory is full is dropped (and counted).
      const isNew = !pending.get(organizationId)?.has(day);
      if (isNew && heldEntries >= maxPendingEntries) {
        droppedCalls += usage.apiCalls;
        return;
      }
      if (isNew) heldEntries += 1;
      addCounters(pending, organizationId, day, usage);
      if (day !== writtenDay) {
        writtenDay = day;
        writtenUsers = new Map();
      }
      if (!writtenUsers.get(organizationId)?.has(userId) && heldEntries < maxPendingEntries) {
        const ids = inner(inner(pendingUsers, day, () => new Map<string, Set<string>>()), organizationId, () => new Set<string>());
        if (!ids.has(userId)) {
          ids.add(userId);
          heldEntries += 1;
        }
      }
      callsSinceFlush += usage.apiCalls;
      if (callsSinceFlush >= flushEveryCalls) {
        callsSinceFlush = 0;
        flush().catch(retryLater);
      }
    },
    unflushedApiCalls: (organizationId, sinceDay) =>
      apiCallsSince(pending, organizationId.toLowerCase(), sinceDay) + apiCallsSince(writing, organizationId.toLowerCase(), sinceDay),
    countedApiCalls: (organizationId, monthFrom) => (monthFrom === countedMonth ? (counted.get(organizationId.toLowerCase()) ?? 0) : 0),
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush().catch((error: unknown) => {
        let lostApiCalls = droppedCalls + (lastFailure?.lostApiCalls ?? 0);
        for (const days of pending.values()) lostApiCalls += callsOf(days);
        onError(error, { lostApiCalls, keptApiCalls: 0, failedOrganizations: lastFailure?.failedOrganizations ?? 0 });
        lastFailure = null;
      });
    },
  };
}
