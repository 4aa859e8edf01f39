import { builder } from '../../builder';
import { payloadType } from '../payload';
import { releaseDomain } from '../../domains/platform';
import { hostname } from './organization-domain.type';
import { asPlatform, platformOnly, reason } from '../platform/platform.type';

const ReleaseDomainInput = builder.inputType('ReleaseDomainInput', {
  fields: (t) => ({
    domain: t.string({ required: true, validate: hostname }),
    reason: t.string({ required: true, validate: reason }),
  }),
});

const ReleaseDomainPayload = payloadType<{ domain: string }>('ReleaseDomainPayload', {
  fields: (t) => ({ domain: t.exposeString('domain') }),
});

builder.mutationField('releaseDomain', (t) =>
  t.field({
    ...platformOnly,
    type: ReleaseDomainPayload,
    description: 'Platform operators: unverifies a domain held by an organization, so that another can verify it. Audited; the holder gets a domain.unverified event.',
    args: { input: t.arg({ type: ReleaseDomainInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db, action } = asPlatform(ctx, input.reason);
      await releaseDomain(db, input.domain, action);
      return { domain: input.domain };
    },
  }),
);
