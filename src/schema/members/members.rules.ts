import type { GraphQLError } from 'graphql';
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client';
import type { TenantClient } from '../../db/tenant';
import { isRecordNotFound, refusalOf } from '../../db/database-errors';
import { badUserInput, failedPrecondition, notFound } from '../../errors';
import { nameFromEmail } from '../../platform/organizations';
import type { MembershipRow } from './membership.type';

/**
 * The rules of membership that depend on data: who the target is, whether it is
 * the owner, whether it is already a member. Who may call which mutation is not
 * here: the mutations declare it with authScopes.
 *
 * Admins manage MEMBERs and ADMINs (their own membership included); nobody but
 * the owner touches the owner, and the owner only through transferOwnership.
 * Every read and write runs on the tenant client, so a user who is not a member
 * of the caller's organization (of another one, or of none) is simply not found.
 */

/** Roles that addMember and updateMember may give. OWNER changes hands only through transferOwnership. */
export const assignableRole = z.enum(['ADMIN', 'MEMBER'], {
  error: 'cannot be OWNER: the owner hands the organization over with transferOwnership',
});

const OWNER_IS_PROTECTED = 'The owner cannot be removed or demoted: the owner must transfer ownership first (transferOwnership)';

/**
 * Database rules that back the checks below, for the writes that race them.
 * None may reach the client as "Unexpected error".
 */
function ruleViolation(error: unknown): GraphQLError | null {
  switch (refusalOf(error)) {
    // At most one owner (a unique partial index, checked per statement).
    case 'secondOwner':
      return failedPrecondition('An organization has exactly one owner: ownership changes hands only through transferOwnership');
    // Never none (a deferred constraint trigger, checked at COMMIT).
    case 'ownerRequired':
      return failedPrecondition(OWNER_IS_PROTECTED);
    // projects.owner_id references the membership (ON DELETE RESTRICT).
    case 'projectOwnerKey':
      return failedPrecondition('This member still owns projects: delete them first');
    default:
      return null;
  }
}

/** Runs a membership write, turning the database's rule violations into FAILED_PRECONDITION. */
export async function enforcingRules<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw ruleViolation(error) ?? error;
  }
}

function memberKey(organizationId: string, userId: string): Prisma.MembershipWhereUniqueInput {
  return { organizationId_userId: { organizationId, userId } };
}

/**
 * Adds a user to the active organization, creating the identity when the email
 * is new. An identity that exists (a member of another organization, say) is
 * reused: a user may belong to several organizations.
 */
export function addMember(
  db: TenantClient,
  organizationId: string,
  input: { email: string; role: z.infer<typeof assignableRole> },
): Promise<MembershipRow> {
  return enforcingRules(() =>
    db.$transaction(async (tx) => {
      // SECURITY: users outside the organization are invisible to the runtime
      // role; app.ensure_user (SECURITY DEFINER) finds or creates one by email
      // and tells nothing but its id.
      const [{ id: userId }] = await tx.$queryRaw<{ id: string }[]>`
        SELECT app.ensure_user(${input.email}, ${nameFromEmail(input.email) || input.email}) AS id`;
      let member: MembershipRow;
      try {
        // Named, not defaulted (memberships has no default): RLS's WITH CHECK refuses any other organization.
        member = await tx.membership.create({ data: { organizationId, userId, role: input.role } });
      } catch (error) {
        if (refusalOf(error) === 'alreadyMember') {
          throw badUserInput([{ field: 'input.email', message: 'is already a member of this organization' }]);
        }
        throw error;
      }
      // Billing follows membership: a member beyond the paid seats adds a seat, so
      // seats >= members always holds (updateSubscription keeps it from the other
      // side). Race-free: this runs under the USERS quota lock, as updateSubscription does.
      await tx.$executeRaw`
        UPDATE subscriptions SET seats = GREATEST(seats, (SELECT count(*) FROM memberships)::int), updated_at = now()
         WHERE organization_id = ${organizationId}::uuid`;
      return member;
    }),
  );
}

/**
 * Writes a membership other than the owner's. The owner is excluded by the
 * statement itself (`role <> 'OWNER'` in its WHERE), so a transfer that
 * commits meanwhile cannot slip through between a check and the write.
 */
async function writeNonOwner<T>(
  db: TenantClient,
  organizationId: string,
  userId: string,
  write: (where: Prisma.MembershipWhereUniqueInput) => Promise<T>,
): Promise<T> {
  const key = memberKey(organizationId, userId);
  try {
    return await enforcingRules(() => write({ ...key, role: { not: 'OWNER' } }));
  } catch (error) {
    if (!isRecordNotFound(error)) throw error;
    // Nothing matched: either no such member (RLS hides other organizations'
    // memberships, so theirs look the same) or the owner.
    const existing = await db.membership.findUnique({ where: key, select: { role: true } });
    throw existing ? failedPrecondition(OWNER_IS_PROTECTED) : notFound('Member');
  }
}

export function updateMemberRole(
  db: TenantClient,
  organizationId: string,
  userId: string,
  role: z.infer<typeof assignableRole>,
): Promise<MembershipRow> {
  return writeNonOwner(db, organizationId, userId, (where) => db.membership.update({ where, data: { role } }));
}

export function removeMember(db: TenantClient, organizationId: string, userId: string): Promise<MembershipRow> {
  return writeNonOwner(db, organizationId, userId, (where) => db.membership.delete({ where }));
}

/**
 * Hands the organization over: the owner becomes an ADMIN and the new owner,
 * who must already be a member, the OWNER, in one transaction. Demotion comes
 * first because the unique index allows one owner at a time; the deferred
 * trigger checks at COMMIT that there is one.
 */
export function transferOwnership(
  db: TenantClient,
  organizationId: string,
  ownerId: string,
  newOwnerId: string,
): Promise<{ owner: MembershipRow; previousOwner: MembershipRow }> {
  if (newOwnerId === ownerId) return Promise.reject(failedPrecondition('You already own this organization'));
  return enforcingRules(() =>
    db.$transaction(async (tx) => {
      const previousOwner = await tx.membership
        .update({ where: { ...memberKey(organizationId, ownerId), role: 'OWNER' }, data: { role: 'ADMIN' } })
        .catch((error: unknown) => {
          // A concurrent transfer got there first.
          throw isRecordNotFound(error) ? failedPrecondition('You are no longer the owner of this organization') : error;
        });
      const owner = await tx.membership
        .update({ where: memberKey(organizationId, newOwnerId), data: { role: 'OWNER' } })
        .catch((error: unknown) => {
          // Throwing rolls the demotion back.
          throw isRecordNotFound(error) ? notFound('Member') : error;
        });
      return { owner, previousOwner };
    }),
  );
}
