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
