import type { Context } from '../context';

/**
 * Support sessions (a platform operator acting as an admin in one organization,
 * src/platform/organizations.ts startSupportSession): what they may do, and
 * on whose behalf their writes are made.
 *
 * - Refused during a session (FORBIDDEN, code SUPPORT_SESSION_REFUSED in
 *   extensions.reason): who belongs to the organization and what it pays.
 *   Granting itself a membership is how an hour of support became standing
 *   access; a second operator does not make that safer, so there is no override.
 * - Every other mutation is written to the platform audit log, with the
 *   session's id (the token's jti), BEFORE it runs: if the record cannot be
 *   written, the mutation does not run.
 * - Ownership: a row that needs an owner (a project) is owned by the
 *   organization's OWNER, not by the operator, who is not a member and must
 *   not become one; the audit log says which operator made it.
 */

/** Root mutation fields a support session may not run. */
export const REFUSED_IN_SUPPORT = new Set(['addMember', 'updateMember', 'removeMember', 'transferOwnership', 'updateSubscription', 'assignToDepartment']);

/** The user a write of this request is made for: the viewer, or in a support session the organization's owner. */
export async function ownerForWrites(ctx: Pick<Context, 'viewer' | 'tenantDb'>): Promise<string> {
  const viewer = ctx.viewer!;
  if (!viewer.support) return viewer.userId;
  const owner = await ctx.tenantDb().membership.findFirst({ where: { role: 'OWNER' }, orderBy: { createdAt: 'asc' }, select: { userId: true } });
  // Every organization has an owner (transferOwnership keeps one); without one, the operator's own id fails as before.
  return owner?.userId ?? viewer.userId;
}
