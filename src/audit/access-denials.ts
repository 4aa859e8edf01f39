import type pg from 'pg';

/**
 * Denied access, audited and alerted (docs/adr/0061-access-denials.md).
 *
 * While a request runs, every refusal is noted here, in memory, keyed by the
 * request; once its response has gone, `flush()` writes them all with ONE call
 * of app.record_access_denials() (migration 20261205160100_access_denials) on a
 * pool connection, its own small transaction. A request that is not refused
 * notes nothing and sends nothing: the success path gains no statement. The
 * response is never touched: a refusal looks exactly as it did.
 *
 * The function decides what is true from the database (is the user a member of
 * the organization its token names? does a refused id belong to another
 * organization, or to none?), writes the audit entries (the caller's
 * organization, the target's as `outsider`, the platform's security log) and
 * raises at most one alert per actor and reason per 10 minutes.
 */
export type DenialReason =
  | 'cross_organization'
  | 'not_a_member'
  | 'forbidden'
  | 'ip_not_allowed'
  | 'session_expired'
  | 'sso_required'
  | 'quota_exceeded'
  | 'operation_limit'
  | 'invalid_token'
  | 'not_a_platform_operator';

export const DENIAL_SEVERITY: Record<DenialReason, 'low' | 'medium' | 'high'> = {
  cross_organization: 'high',
  not_a_member: 'high',
  invalid_token: 'medium',
  ip_not_allowed: 'medium',
  not_a_platform_operator: 'medium',
  forbidden: 'low',
  session_expired: 'low',
  sso_required: 'low',
  quota_exceeded: 'low',
  operation_limit: 'low',
};

/** An id a refused field was asked for: the table of its type, for the cross-organization check. */
export interface DenialCandidate {
  table: string;
  type: string;
  id: string;
}

export interface Denial {
  reason: DenialReason;
  /** The verified token's subject; absent for a token that did not verify. */
  userId?: string | null;
  /** The organization the token names (membership is checked again by the recorder's function). */
  organizationId?: string | null;
  /** A platform operator's support session. */
  support?: boolean;
  /** What was refused: the root field, or the operation's type and name. */
  operation?: string | null;
  /** The error code the caller got. */
  code?: string | null;
  /** cross_organization only: the ids the refused field was asked for; none in another organization: nothing is recorded. */
  candidates?: DenialCandidate[];
  quota?: { resource: string; limit: number; used: number };
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface DenialRecorder {
  /** Notes a denial of this request (no I/O). */
  note(request: Request, denial: Denial): void;
  /** Whether this request has noted a denial. */
  has(request: Request): boolean;
  /** Queues the request's denials, if any, for writing: called once its response is out. */
  flush(request: Request, ip: string | null): void;
  /** Resolves when everything queued so far is written (tests, shutdown). */
  settled(): Promise<void>;
}

/** At most this many denials per request are written (a document of 1,000 refused aliases is one attack, not 1,000). */
const MAX_PER_REQUEST = 20;
/** Denials per statement (app.record_access_denials takes at most 500). */
const BATCH = 200;
/** Denials waiting beyond this are dropped (and reported): a storm of refusals must not grow the heap without bound. */
const MAX_QUEUED = 10_000;

export interface DenialRecorderOptions {
  pool: Pick<pg.Pool, 'query'>;
  /** A failed write, or denials dropped from a full queue, reported here: it never fails a request. */
  onError?: (error: unknown) => void;
}

/**
 * PERF: one write at a time. While a write is under way, the denials of
 * later requests queue up and go together in the next one, so that a storm
 * of refused requests (forged tokens, a scan of ids) costs at most one of the
 * pool's connections, and one statement per batch, not one per request.
 */
export function createDenialRecorder({ pool, onError = () => undefined }: DenialRecorderOptions): DenialRecorder {
  const pending = new WeakMap<Request, Denial[]>();
  const queue: (Denial & RequestMeta)[] = [];
  let writing: Promise<void> | null = null;
  let dropped = 0;
  const write = () => {
    if (writing || queue.length === 0) return;
    const batch = queue.splice(0, BATCH);
    writing = pool
      .query('SELECT app.record_access_denials($1::jsonb)', [JSON.stringify(batch)])
      .then(() => undefined, onError)
      .finally(() => {
        writing = null;
        if (dropped > 0) {
          onError(new Error(`${dropped} access denials not recorded: the queue was full`));
          dropped = 0;
        }
        write();
      });
  };
  return {
    note(request, denial) {
      const denials = pending.get(request);
      if (!denials) pending.set(request, [denial]);
      else if (denials.length < MAX_PER_REQUEST) denials.push(denial);
    },
    has: (request) => pending.has(request),
    flush(request, ip) {
      const denials = pending.get(request);
      if (!denials) return;
      pending.delete(request);
      const meta: RequestMeta = { ip, userAgent: request.headers.get('user-agent'), requestId: request.headers.get('x-request-id') };
      for (const denial of denials) {
        if (queue.length >= MAX_QUEUED) dropped += 1;
        else queue.push({ ...denial, ...meta });
      }
      write();
    },
    async settled() {
      while (writing) await writing;
    },
  };
}
