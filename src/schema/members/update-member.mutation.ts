import type { z } from 'zod';
import { builder } from '../../builder';
import { globalIdOf } from '../global-id';
import { RoleEnum } from '../viewer/viewer.query';
import { assignableRole, updateMemberRole } from './members.rules';
import { memberPayload } from './membership.type';

const UpdateMemberInput = builder.inputType('UpdateMemberInput', {
  fields: (t) => ({
    userId: t.id({ required: true, validate: globalIdOf('User') }),
    role: t.field({ type: RoleEnum, required: true, validate: assignableRole, description: 'ADMIN or MEMBER.' }),
  }),
});

builder.mutationField('updateMember', (t) =>
  t.field({
    type: memberPayload('UpdateMemberPayload'),
    description: "Changes a member's role. The owner's role changes only through transferOwnership.",
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: UpdateMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      member: await updateMemberRole(ctx.tenantDb(), ctx.viewer!.organizationId, String(input.userId), input.role as z.infer<typeof assignableRole>),
    }),
  }),
);
