import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Invitation as InvitationRow } from '../../generated/prisma/client';
import { InvitationStatus } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { RoleEnum } from '../viewer/viewer.query';

export const InvitationStatusEnum = builder.enumType(InvitationStatus, { name: 'InvitationStatus' });

export const Invitation = builder.objectRef<InvitationRow & { now: number }>('Invitation').implement({
  description: 'An invitation to join the organization, by email. Its token is only ever in the mail.',
  fields: (t) => ({
    id: t.id({ resolve: (row) => encodeGlobalID('Invitation', row.id) }),
    email: t.exposeString('email'),
    role: t.expose('role', { type: RoleEnum }),
    departmentId: t.id({ nullable: true, resolve: (row) => (row.departmentId ? encodeGlobalID('Department', row.departmentId) : null) }),
    status: t.expose('status', { type: InvitationStatusEnum }),
    expired: t.boolean({ description: 'A PENDING invitation past its expiry can no longer be accepted (resend it).', resolve: (row) => row.expiresAt.getTime() <= row.now }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    sentAt: t.expose('sentAt', { type: 'DateTime' }),
    respondedAt: t.expose('respondedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const InvitationPayload = payloadType<{ invitation: InvitationRow & { now: number } }>('InvitationPayload', {
  fields: (t) => ({ invitation: t.field({ type: Invitation, resolve: (p) => p.invitation }) }),
});

/** A joined organization, as acceptInvitation and completeSignUp answer it. */
export const JoinedOrganization = builder
  .objectRef<{ organizationId: string; slug: string; name: string; role: 'OWNER' | 'ADMIN' | 'MEMBER'; created?: boolean }>('JoinedOrganization')
  .implement({
    description: 'An organization the caller has just joined (or created): a token with its id as the `org` claim opens it.',
    fields: (t) => ({
      id: t.id({ resolve: (o) => encodeGlobalID('Organization', o.organizationId) }),
      organizationId: t.id({ description: 'The row id: the `org` claim of a token for it.', resolve: (o) => o.organizationId }),
      slug: t.exposeString('slug'),
      name: t.exposeString('name'),
      role: t.expose('role', { type: RoleEnum }),
    }),
  });
