import { builder } from '../../builder';
import { payloadType } from '../payload';
import { notFound } from '../../errors';
import { isRecordNotFound } from '../../db/database-errors';
import { assignableRole } from '../members/members.rules';
import { hostname, OrganizationDomain } from './organization-domain.type';
import { RoleEnum } from '../viewer/viewer.query';

const UpdateDomainInput = builder.inputType('UpdateDomainInput', {
  fields: (t) => ({
    domain: t.string({ required: true, validate: hostname }),
    joining: t.boolean({ description: 'Whether people signing up with an email of this domain join the organization (once it is verified). Default on.' }),
    joinRole: t.field({ type: RoleEnum, validate: assignableRole, description: 'ADMIN or MEMBER (the default).' }),
  }),
});

const UpdateDomainPayload = payloadType<{ domain: object }>('UpdateDomainPayload', {
  fields: (t) => ({ domain: t.field({ type: OrganizationDomain, resolve: (p) => p.domain as never }) }),
});

builder.mutationField('updateDomain', (t) =>
  t.field({
    type: UpdateDomainPayload,
    description: "A domain's signup routing: whether people with its email join, and as what. Owners and admins.",
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: UpdateDomainInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const domain = await ctx
        .tenantDb()
        .organizationDomain.update({
          where: { organizationId_domain: { organizationId: ctx.viewer!.organizationId, domain: input.domain } },
          data: { joining: input.joining ?? undefined, joinRole: (input.joinRole as 'ADMIN' | 'MEMBER' | null) ?? undefined },
        })
        .catch((error: unknown) => Promise.reject(isRecordNotFound(error) ? notFound('Domain') : error));
      return { domain };
    },
  }),
);
