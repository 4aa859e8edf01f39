import { z } from 'zod';
import { builder } from '../../builder';
import { RoleEnum } from '../viewer/viewer.query';
import { addMember, assignableRole } from './members.rules';
import { memberPayload } from './membership.type';

const email = z.string().trim().toLowerCase().max(254, 'must be at most 254 characters').pipe(z.email('must be an email address'));

const AddMemberInput = builder.inputType('AddMemberInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: email, description: 'Stored lowercased. A new address creates the user.' }),
    role: t.field({ type: RoleEnum, required: true, defaultValue: 'MEMBER', validate: assignableRole, description: 'ADMIN or MEMBER.' }),
  }),
});

builder.mutationField('addMember', (t) =>
  t.field({
    type: memberPayload('AddMemberPayload'),
    authScopes: { role: ['OWNER', 'ADMIN'] },
    // Checked before the user is looked up or created: at the limit, nothing is written.
    quota: 'USERS',
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      member: await addMember(ctx.tenantDb(), ctx.viewer!.organizationId, { email: input.email, role: input.role as z.infer<typeof assignableRole> }),
    }),
  }),
);
