import type { TenantClient } from '../db/tenant';
import type { Invitation } from '../generated/prisma/client';
import { refusalOf } from '../db/database-errors';
import { badUserInput, failedPrecondition, notFound } from '../errors';
import { recordEvent } from '../events/record';
import { invitationInvalid } from '../domains/errors';
import { hashToken, newSecretToken } from '../domains/rules';
import type { Services } from '../domains/services';
import { enforceQuota } from '../quotas/enforce';
import { nameFromEmail } from '../platform/organizations';

/**
 * Invitations instead of silent adds: an OWNER or ADMIN invites an email; the
 * person accepts (signed in with that email, verified by their identity
 * provider) or declines. The USERS quota is checked at invitation and again at
 * acceptance, under the quota lock, so a seat taken in between is seen.
 *
 * SECURITY: nothing here looks at users outside the organization before the
 * invitee accepts: inviting an address answers the same whether or not it has
 * an account anywhere.
 */

export interface InvitationInput {
  email: string;
  role: 'ADMIN' | 'MEMBER';
  departmentId: string | null;
}

export type Inviter = { organizationId: string; organizationName: string; userId: string };

async function isMember(tx: Pick<TenantClient, '$queryRaw'>, email: string): Promise<boolean> {
  // Within the organization only: RLS shows its own memberships.
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = ${email} LIMIT 1`;
  return rows.length > 0;
}

/** Creates the invitation (or renews the pending one for this email) and mails its link. */
export async function inviteMember(db: TenantClient, inviter: Inviter, input: InvitationInput, services: Services): Promise<Invitation> {
  const { token, hash } = newSecretToken();
  const expiresAt = new Date(services.now() + services.tokenTtlMs);
  const invitation = await db.$transaction(async (tx) => {
    await enforceQuota(tx, { resource: 'USERS', amount: 1 });
    if (input.departmentId && !(await tx.department.findUnique({ where: { organizationId_id: { organizationId: inviter.organizationId, id: input.departmentId } }, select: { id: true } }))) {
      throw notFound('Department');
    }
    if (await isMember(tx, input.email)) throw badUserInput([{ field: 'input.email', message: 'is already a member of this organization' }]);
    const renewed = await tx.invitation.updateManyAndReturn({
      where: { email: input.email, status: 'PENDING' },
      data: { role: input.role, departmentId: input.departmentId, tokenHash: hash, expiresAt, sentAt: new Date(services.now()) },
    });
    const invitation =
      renewed[0] ??
      (await tx.invitation.create({
        data: { organizationId: inviter.organizationId, email: input.email, role: input.role, departmentId: input.departmentId, tokenHash: hash, inviterId: inviter.userId, expiresAt },
      }));
    if (!renewed[0]) {
      await recordEvent(tx, inviter.organizationId, { type: 'invitation.created', subjectType: 'invitation', subjectId: invitation.id, payload: { invitationId: invitation.id, email: input.email, role: input.role } });
    }
    return invitation;
  });
  await mailInvitation(services, inviter.organizationName, invitation, token);
  return invitation;
}

/**
 * The invitation mail. It carries the token, not a link: accepting needs the
 * invitee signed in through the application's identity provider, which is the
 * application's page to show (it calls acceptInvitation with the token).
 */
async function mailInvitation(services: Services, organizationName: string, invitation: Invitation, token: string): Promise<void> {
  await services.mailer.send({
    to: invitation.email,
    subject: `You are invited to join ${organizationName}`,
    text: [
      `You are invited to join ${organizationName} as ${invitation.role === 'ADMIN' ? 'an admin' : 'a member'}.`,
      `Sign in with ${invitation.email} and accept with this invitation token (valid until ${invitation.expiresAt.toISOString()}):`,
      '',
      `Invitation token (acceptInvitation / declineInvitation): ${token}`,
      '',
      'If you do not want to join, decline it or ignore this message.',
    ].join('\n'),
  });
}

/** A new token and expiry for a pending invitation, mailed again. */
export async function resendInvitation(db: TenantClient, organizationName: string, id: string, services: Services): Promise<Invitation> {
  const { token, hash } = newSecretToken();
  const [invitation] = await db.invitation.updateManyAndReturn({
    where: { id, status: 'PENDING' },
    data: { tokenHash: hash, expiresAt: new Date(services.now() + services.tokenTtlMs), sentAt: new Date(services.now()) },
  });
  if (!invitation) throw notFound('Pending invitation');
  await mailInvitation(services, organizationName, invitation, token);
  return invitation;
}

export async function revokeInvitation(db: TenantClient, id: string, now: Date): Promise<Invitation> {
  const [invitation] = await db.invitation.updateManyAndReturn({ where: { id, status: 'PENDING' }, data: { status: 'REVOKED', respondedAt: now } });
  return invitation ?? Promise.reject(notFound('Pending invitation'));
}

interface InvitationByToken {
  organization_id: string;
  id: string;
  email: string;
  role: 'ADMIN' | 'MEMBER';
  status: string;
  expires_at: Date;
  organization_name: string;
}

/**
 * The pending invitation a token names, for the signed-in `email`. Unknown,
 * answered, revoked and expired invitations are all INVITATION_INVALID alike.
 */
async function pendingInvitation(db: TenantClient, token: string, email: string | null, now: number): Promise<InvitationByToken> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw invitationInvalid();
  const [row] = await db.$queryRaw<InvitationByToken[]>`SELECT * FROM app.invitation_by_token(${hashToken(token)})`;
  if (!row || row.status !== 'PENDING' || row.expires_at.getTime() <= now) throw invitationInvalid();
  if (!email) throw failedPrecondition('Sign in with an identity provider that vouches for your email address (a verified email claim)');
  if (email !== row.email) throw invitationInvalid('This invitation was sent to another email address: sign in with that address to answer it');
  return row;
}

export interface Joined {
  organizationId: string;
  slug: string;
  name: string;
  role: 'OWNER' | 'ADMIN' | 'MEMBER';
}

/**
 * Adds the signed-in user to an organization as `role`, inside a transaction of
 * `joining` (a tenant client of that organization): the USERS quota under its
 * lock, the user created on first sign-in, seats grown as addMember grows them,
 * and member.joined. Shared by acceptInvitation and signup by domain.
 */
export async function joinOrganization(
  tx: Parameters<Parameters<TenantClient['$transaction']>[0]>[0],
  member: { organizationId: string; userId: string; email: string; role: 'ADMIN' | 'MEMBER'; departmentId?: string | null; via: string },
): Promise<void> {
  await enforceQuota(tx, { resource: 'USERS', amount: 1 });
  await tx.$queryRaw`SELECT app.ensure_signed_in_user(${member.email}, ${nameFromEmail(member.email) || member.email})`;
  await tx.membership.create({ data: { organizationId: member.organizationId, userId: member.userId, role: member.role, departmentId: member.departmentId ?? null } });
  await tx.$executeRaw`
    UPDATE subscriptions SET seats = GREATEST(seats, (SELECT count(*) FROM memberships)::int), updated_at = now()
     WHERE organization_id = ${member.organizationId}::uuid`;
  await recordEvent(tx, member.organizationId, { type: 'member.joined', subjectType: 'user', subjectId: member.userId, payload: { userId: member.userId, role: member.role, via: member.via } });
}

/** Whether the failure is "this user is a member already" (memberships_pkey) or "the email belongs to another account". */
export function joinFailure(error: unknown): 'member' | 'other-account' | null {
  const refusal = refusalOf(error);
  if (refusal === 'alreadyMember') return 'member';
  if (refusal === 'emailOtherAccount') return 'other-account';
  return null;
}

export async function acceptInvitation(
  anyDb: TenantClient,
  joiningDb: (organizationId: string) => TenantClient,
  caller: { userId: string; email: string | null },
  token: string,
  services: Services,
): Promise<Joined> {
  const invitation = await pendingInvitation(anyDb, token, caller.email, services.now());
  const db = joiningDb(invitation.organization_id);
  try {
    return await db.$transaction(async (tx) => {
      // Claimed first: a revoke or a second accept that commits meanwhile makes this one fail.
      const [claimed] = await tx.invitation.updateManyAndReturn({
        where: { id: invitation.id, status: 'PENDING', expiresAt: { gt: new Date(services.now()) } },
        data: { status: 'ACCEPTED', respondedAt: new Date(services.now()) },
      });
      if (!claimed) throw invitationInvalid();
      await joinOrganization(tx, { organizationId: invitation.organization_id, userId: caller.userId, email: caller.email!, role: invitation.role, departmentId: claimed.departmentId, via: 'invitation' });
      await recordEvent(tx, invitation.organization_id, { type: 'invitation.accepted', subjectType: 'invitation', subjectId: invitation.id, payload: { invitationId: invitation.id, userId: caller.userId, role: invitation.role } });
      const organization = await tx.organization.findUniqueOrThrow({ where: { id: invitation.organization_id }, select: { slug: true, name: true } });
      return { organizationId: invitation.organization_id, slug: organization.slug, name: organization.name, role: invitation.role };
    });
  } catch (error) {
    const failure = joinFailure(error);
    if (failure === 'member') throw failedPrecondition('You are already a member of this organization');
    if (failure === 'other-account') throw failedPrecondition('This email address belongs to another account: sign in as that account');
    throw error;
  }
}

export async function declineInvitation(anyDb: TenantClient, joiningDb: (organizationId: string) => TenantClient, email: string | null, token: string, services: Services): Promise<void> {
  const invitation = await pendingInvitation(anyDb, token, email, services.now());
  const { count } = await joiningDb(invitation.organization_id).invitation.updateMany({
    where: { id: invitation.id, status: 'PENDING' },
    data: { status: 'DECLINED', respondedAt: new Date(services.now()) },
  });
  if (count === 0) throw invitationInvalid();
}
