import { z } from 'zod';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { badUserInput } from '../../errors';
import { verifiedEmail } from '../../domains/rules';
import { acceptInvitation, declineInvitation, inviteMember, resendInvitation, revokeInvitation } from '../../invitations/invitations';
import { assignableRole } from '../members/members.rules';
import { RoleEnum } from '../viewer/viewer.query';
import { InvitationPayload, JoinedOrganization } from './invitation.type';

/**
 * inviteMember, resendInvitation, revokeInvitation (OWNER and ADMIN of the
 * active organization); acceptInvitation and declineInvitation (the invitee,
 * signed in with the invitation's email, in any organization or none).
 */

const email = z.string().trim().toLowerCase().max(254, 'must be at most 254 characters').pipe(z.email('must be an email address'));
const token = z.string().min(20, 'is not an invitation token').max(100, 'is not an invitation token');

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: email }),
    role: t.field({ type: RoleEnum, required: true, defaultValue: 'MEMBER', validate: assignableRole, description: 'ADMIN or MEMBER.' }),
    departmentId: t.globalID({ description: 'The department the member joins.' }),
  }),
});

const idOf = (id: { typename: string; id: string }, typename: string, field: string): string => {
  if (id.typename !== typename) throw badUserInput([{ field, message: `must be the ID of a ${typename}` }]);
  return id.id;
};

builder.mutationField('inviteMember', (t) =>
  t.field({
    type: InvitationPayload,
    description:
      'Invites an email address to join, and mails the link (SMTP_URL, else an .eml file under .data/mail). Inviting a pending address again renews and resends. ' +
      'QUOTA_EXCEEDED at the USERS limit. The answer is the same whether or not the address has an account anywhere.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = ctx.viewer!;
      const invitation = await inviteMember(
        ctx.tenantDb(),
        { organizationId: viewer.organizationId, organizationName: ctx.organization!.name, userId: viewer.userId },
        { email: input.email, role: input.role as 'ADMIN' | 'MEMBER', departmentId: input.departmentId ? idOf(input.departmentId, 'Department', 'input.departmentId') : null },
        ctx.services,
      );
      return { invitation: { ...invitation, now: ctx.services.now() } };
    },
  }),
);

const InvitationIdInput = builder.inputType('InvitationIdInput', {
  fields: (t) => ({ id: t.globalID({ required: true }) }),
});

builder.mutationField('resendInvitation', (t) =>
  t.field({
    type: InvitationPayload,
    description: 'A new link, valid for 7 days (the old one stops working), mailed again. Pending invitations only.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: InvitationIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const invitation = await resendInvitation(ctx.tenantDb(), ctx.organization!.name, idOf(input.id, 'Invitation', 'input.id'), ctx.services);
      return { invitation: { ...invitation, now: ctx.services.now() } };
    },
  }),
);

builder.mutationField('revokeInvitation', (t) =>
  t.field({
    type: InvitationPayload,
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: InvitationIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const invitation = await revokeInvitation(ctx.tenantDb(), idOf(input.id, 'Invitation', 'input.id'), new Date(ctx.services.now()));
      return { invitation: { ...invitation, now: ctx.services.now() } };
    },
  }),
);

const TokenInput = builder.inputType('InvitationTokenInput', {
  fields: (t) => ({ token: t.string({ required: true, validate: token, description: 'From the invitation mail.' }) }),
});

/** Open to any signed-in caller, with or without an organization: the invitee is not a member yet. */
const invitee = { authScopes: { signedIn: true }, skipTypeScopes: true } as const;

builder.mutationField('acceptInvitation', (t) =>
  t.field({
    ...invitee,
    type: JoinedOrganization,
    description:
      "Joins the inviting organization with the invitation's role. The token's email claim (email_verified) must be the invited address. " +
      'INVITATION_INVALID when it is unknown, expired, revoked, answered or for another address; QUOTA_EXCEEDED when the organization has no seat left.',
    args: { input: t.arg({ type: TokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      acceptInvitation(ctx.tenantDb(), ctx.joiningDb, { userId: ctx.claims!.sub, email: verifiedEmail(ctx.claims) }, input.token, ctx.services),
  }),
);

const DeclinePayload = payloadType<{ declined: boolean }>('DeclineInvitationPayload', {
  fields: (t) => ({ declined: t.exposeBoolean('declined') }),
});

builder.mutationField('declineInvitation', (t) =>
  t.field({
    ...invitee,
    type: DeclinePayload,
    args: { input: t.arg({ type: TokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await declineInvitation(ctx.tenantDb(), ctx.joiningDb, verifiedEmail(ctx.claims), input.token, ctx.services);
      return { declined: true };
    },
  }),
);
