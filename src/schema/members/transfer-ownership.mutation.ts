import { builder } from '../../builder';
import { payloadType } from '../payload';
import { globalIdOf } from '../global-id';
import { transferOwnership } from './members.rules';
import { Membership, type MembershipRow } from './membership.type';

const TransferOwnershipInput = builder.inputType('TransferOwnershipInput', {
  fields: (t) => ({
    newOwnerId: t.id({ required: true, validate: globalIdOf('User'), description: 'A member of the organization.' }),
  }),
});

const TransferOwnershipPayload = payloadType<{ owner: MembershipRow; previousOwner: MembershipRow }>('TransferOwnershipPayload', {
  fields: (t) => ({
    owner: t.field({ type: Membership, resolve: (payload) => payload.owner }),
    previousOwner: t.field({ type: Membership, description: 'Now an ADMIN.', resolve: (payload) => payload.previousOwner }),
  }),
});

builder.mutationField('transferOwnership', (t) =>
  t.field({
    type: TransferOwnershipPayload,
    description: 'Makes another member the owner; the caller becomes an ADMIN. One transaction.',
    authScopes: { role: ['OWNER'] },
    args: { input: t.arg({ type: TransferOwnershipInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      transferOwnership(ctx.tenantDb(), ctx.viewer!.organizationId, ctx.viewer!.userId, String(input.newOwnerId)),
  }),
);
