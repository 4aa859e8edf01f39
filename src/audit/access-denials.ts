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
  /** Writes the request's denials, if any, in the background: called once its response is out. */
  flush(request: Request, ip: string | null): void;
  /** Resolves when every write started so far has ended (tests, shutdown). */
  settled(): Promise<void>;
}

/** At most this many denials per request are written (a document of 1,000 refused aliases is one attack, not 1,000). */
const MAX_PER_REQUEST = 20;

export interface DenialRecorderOptions {
  pool: Pick<pg.Pool, 'query'>;
  /** A failed write is reported here and dropped: it must never fail a request. */
  onError?: (error: unknown) => void;
}

export function createDenialRecorder({ pool, onError = () => undefined }: DenialRecorderOptions): DenialRecorder {
  const pending = new WeakMap<Request, Denial[]>();
  const writes = new Set<Promise<void>>();
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
      const write = pool
        .query('SELECT app.record_access_denials($1::jsonb, $2::jsonb)', [JSON.stringify(denials), JSON.stringify(meta)])
        .then(() => undefined, onError)
        .finally(() => writes.delete(write));
      writes.add(write);
    },
    async settled() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
  };
}
