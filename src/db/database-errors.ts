/**
 * Every database refusal the gateway explains to a client, in one table: by
 * SQLSTATE and, where @prisma/adapter-pg reports it (unique and foreign-key
 * violations), the constraint or index. Resolvers ask `refusalOf(error)` for the
 * refusal's name and turn it into the GraphQL error that fits their operation;
 * nothing matches an error's message. test/catalog.test.ts checks that every
 * constraint named here exists.
 */

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const INSUFFICIENT_PRIVILEGE = '42501';

export const REFUSALS = {
  /** Another organization has the slug. */
  organizationSlugTaken: { sqlState: UNIQUE_VIOLATION, constraint: 'organizations_slug_key' },
  /** The organization has added this domain already. */
  domainAlreadyAdded: { sqlState: UNIQUE_VIOLATION, constraint: 'organization_domains_pkey' },
  /** The user is a member already. */
  alreadyMember: { sqlState: UNIQUE_VIOLATION, constraint: 'memberships_pkey' },
  /** A second owner (a unique partial index, checked per statement). */
  secondOwner: { sqlState: UNIQUE_VIOLATION, constraint: 'memberships_one_owner' },
  /** No owner left (the deferred trigger memberships_keep_owner, at COMMIT; migration 20261204110100). */
  ownerRequired: { sqlState: 'TG001', constraint: null },
  /** A department moved under its own descendant (trigger departments_no_cycle). */
  departmentCycle: { sqlState: 'TG002', constraint: null },
  // Composite foreign keys, by constraint: a write naming a row the organization
  // does not have violates one, and so does a delete of a row still referenced
  // (ON DELETE RESTRICT); the resolver knows which it did.
  /** projects.owner_id → memberships: an unknown owner; removing a member who owns projects. */
  projectOwnerKey: { sqlState: FOREIGN_KEY_VIOLATION, constraint: 'projects_organization_id_owner_id_fkey' },
  /** projects.restricted_to_department_id → departments. */
  projectDepartmentKey: { sqlState: FOREIGN_KEY_VIOLATION, constraint: 'projects_organization_id_restricted_to_department_id_fkey' },
  /** departments.parent_id → departments. */
  departmentParentKey: { sqlState: FOREIGN_KEY_VIOLATION, constraint: 'departments_organization_id_parent_id_fkey' },
  /** memberships.department_id → departments. */
  memberDepartmentKey: { sqlState: FOREIGN_KEY_VIOLATION, constraint: 'memberships_organization_id_department_id_fkey' },
  /** Another organization verified this domain first (a unique partial index; migration 20261204140100). */
  domainVerifiedElsewhere: { sqlState: UNIQUE_VIOLATION, constraint: 'organization_domains_verified_once' },
  /** app.ensure_signed_in_user(): the signed-in user's email belongs to another account (migration 20261204140100). */
  emailOtherAccount: { sqlState: 'TG003', constraint: null },
  /**
   * A CHECK constraint refused the row. @prisma/adapter-pg names no constraint
   * for these, so the caller knows which it can hit (setVisibility: a
   * department-restricted project cannot be shared, projects_restricted_not_shared).
   */
  checkViolation: { sqlState: '23514', constraint: null },
  /** A row that RLS's WITH CHECK refuses (a policy, not a missing grant: the gateway grants what it uses). */
  policyRefused: { sqlState: INSUFFICIENT_PRIVILEGE, constraint: null },
} as const satisfies Record<string, { sqlState: string; constraint: string | null }>;

export type Refusal = keyof typeof REFUSALS;

/** A PostgreSQL failure as Prisma 7 (with @prisma/adapter-pg) reports it. */
interface DatabaseFailure {
  sqlState: string;
  constraint: string | null;
}

interface AdapterCause {
  /** @prisma/adapter-pg's classification: `postgres` (with the SQLSTATE), or e.g. `DatabaseNotReachable`. */
  kind?: string;
  originalCode?: string;
  code?: string;
  constraint?: { index?: string };
}

/**
 * Reads the SQLSTATE and constraint out of the shapes Prisma 7 throws:
 * - a model operation: PrismaClientKnownRequestError (P2002, P2003, ...) with
 *   `meta.driverAdapterError.cause`;
 * - raw SQL: the same with code P2010;
 * - an error raised at COMMIT (a deferred constraint trigger): a bare
 *   DriverAdapterError whose `cause` has the SQLSTATE.
 */
function databaseFailure(error: unknown): DatabaseFailure | null {
  const e = error as { name?: unknown; cause?: AdapterCause; meta?: { driverAdapterError?: { cause?: AdapterCause } } } | null;
  const cause = e?.meta?.driverAdapterError?.cause ?? (e?.name === 'DriverAdapterError' ? e.cause : undefined);
  const sqlState = cause?.originalCode ?? cause?.code;
  if (!cause || typeof sqlState !== 'string') return null;
  return { sqlState, constraint: cause.constraint?.index ?? null };
}

const BY_CONSTRAINT = new Map<string, Refusal>();
const BY_SQLSTATE = new Map<string, Refusal>();
for (const [name, { sqlState, constraint }] of Object.entries(REFUSALS) as [Refusal, (typeof REFUSALS)[Refusal]][]) {
  if (constraint) BY_CONSTRAINT.set(`${sqlState}:${constraint}`, name);
  else BY_SQLSTATE.set(sqlState, name);
}

/**
 * The refusal `error` is, if it is one of the table's: a match on SQLSTATE and
 * constraint first, else on the SQLSTATE alone (for the entries without a
 * constraint). Null for any other error, which stays unexpected (masked).
 */
export function refusalOf(error: unknown): Refusal | null {
  const failure = databaseFailure(error);
  if (!failure) return null;
  return (failure.constraint && BY_CONSTRAINT.get(`${failure.sqlState}:${failure.constraint}`)) || BY_SQLSTATE.get(failure.sqlState) || null;
}

/** Prisma's "record to update/delete does not exist", which RLS also yields for another organization's row. */
export function isRecordNotFound(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'P2025';
}

/**
 * The constraint a foreign-key violation names, for the composite keys that
 * `tenancy:migration` generates (`<table>_<columns>_fkey`): a tenant model maps
 * them to its relations' NOT_FOUND itself (src/tenancy/tenant-model.ts), since
 * they are not known before the user's models are.
 */
export function foreignKeyViolation(error: unknown): string | null {
  const failure = databaseFailure(error);
  return failure?.sqlState === FOREIGN_KEY_VIOLATION ? failure.constraint : null;
}

/**
 * The database cannot be reached or is going away (a restart, a failover, a
 * network cut): the request failed through no fault of its own and may be
 * retried. The gateway answers 503 `DATABASE_UNAVAILABLE` with Retry-After
 * (src/yoga.ts) rather than a masked 500. Recognised by code only:
 * - SQLSTATE class 08 (connection exception), 57P01/57P02 (the server is
 *   shutting down: admin or crash), 57P03 (it is starting up), 53300 (too many
 *   connections), wherever Prisma or node-postgres put it;
 * - the socket's errno (ECONNREFUSED, ECONNRESET, ...);
 * - @prisma/adapter-pg's kinds DatabaseNotReachable, ConnectionClosed,
 *   SocketTimeout, TooManyConnections (Prisma's P1001, P1017, ...);
 * - DatabaseUnavailableError: what src/db/send-query.ts and the held
 *   transaction's queue reject with when a statement fails without a SQLSTATE on
 *   a connection that node-postgres has marked dead (its socket ended or failed),
 *   the one case node-postgres reports with a message only.
 */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const unavailableCode = (code: unknown) => typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || UNREACHABLE_ERRNOS.has(code));

export function isDatabaseUnavailable(error: unknown): boolean {
  let current = error as { code?: unknown; cause?: unknown; originalError?: unknown; meta?: { driverAdapterError?: { cause?: AdapterCause } } } | null | undefined;
  // A GraphQLError wraps the resolver's error (originalError), Prisma the adapter's (meta, cause): a few levels at most.
  for (let depth = 0; current && typeof current === 'object' && depth < 8; depth += 1) {
    if (current instanceof DatabaseUnavailableError || unavailableCode(current.code)) return true;
    const adapter = current.meta?.driverAdapterError?.cause;
    if (adapter && (UNAVAILABLE_ADAPTER_KINDS.has(adapter.kind ?? '') || unavailableCode(adapter.originalCode) || unavailableCode(adapter.code))) return true;
    current = (current.originalError ?? current.cause) as typeof current;
  }
  return false;
}

/** node-postgres' own marks of a connection whose socket ended or failed (pg/lib/client.js). */
interface ConnectionState {
  _ended?: boolean;
  _queryable?: boolean;
}

/**
 * What a failed `pool.connect()` rejects with: a SQLSTATE (a refused login,
 * 57P03) or an errno stays as it is, and so does the refusal of a pool this
 * process has closed (`ending`: a bug or a stop, not the database); any other
 * error without a code (node-postgres' "the server closed the connection" while
 * connecting) is DatabaseUnavailableError.
 */
export function connectFailure(error: unknown, pool: { readonly ending: boolean }): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if ((typeof code === 'string' && code.length > 0) || pool.ending) return error;
  return new DatabaseUnavailableError('Could not connect to PostgreSQL', { cause: error });
}

/** `error` as DatabaseUnavailableError when it has no SQLSTATE and `connection` is dead; else unchanged. */
export function connectionFailure(error: Error, connection: object): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.length > 0) return error;
  const state = connection as ConnectionState;
  if (state._ended === true || state._queryable === false) {
    return new DatabaseUnavailableError('The connection to PostgreSQL was lost', { cause: error });
  }
  return error;
}
