import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { globalIdOf } from '../global-id';
import { removeMember } from './members.rules';

const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({
    userId: t.id({ required: true, validate: globalIdOf('User') }),
  }),
});

const RemoveMemberPayload = payloadType<{ removedUserId: string }>('RemoveMemberPayload', {
  fields: (t) => ({ removedUserId: t.exposeID('removedUserId') }),
});

builder.mutationField('removeMember', (t) =>
  t.field({
    type: RemoveMemberPayload,
    description: 'Removes a member; any member may remove itself (leave). The owner transfers ownership first.',
    // The id is already validated and decoded here (the validation plugin maps
    // arguments before scope-auth runs).
    authScopes: (_root, { input }, ctx) => (String(input.userId) === ctx.viewer?.userId ? { member: true } : { role: ['OWNER', 'ADMIN'] }),
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const removed = await removeMember(ctx.tenantDb(), ctx.viewer!.organizationId, String(input.userId));
      return { removedUserId: encodeGlobalID('User', removed.userId) };
    },
  }),
);
