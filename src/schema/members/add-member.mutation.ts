import { z } from 'zod';
import { builder } from '../../builder';
import { RoleEnum } from '../viewer/viewer.query';
import { addMember, assignableRole } from './members.rules';
import { memberPayload } from './membership.type';
import { assertAddMemberAllowed } from '../../invitations/add-member-rule';

const email = z.string().trim().toLowerCase().max(254, 'must be at most 254 characters').pipe(z.email('must be an email address'));

const AddMemberInput = builder.inputType('AddMemberInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: email, description: "Stored lowercased. Must be of one of the organization's verified domains (others: inviteMember). A new address creates the user." }),
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
    resolve: async (_root, { input }, ctx) => {
      // Only for the organization's verified domains (or a support session): see src/invitations/add-member-rule.ts.
      await assertAddMemberAllowed(ctx.tenantDb(), ctx.viewer!, input.email);
      const role = input.role as z.infer<typeof assignableRole>;
      return { member: await addMember(ctx.tenantDb(), ctx.viewer!.organizationId, { email: input.email, role }) };
    },
  }),
);
