import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { markPastDue } from '../../billing/payments';
import { recordAudit } from '../../platform/organizations';
import { asPlatform, platformOnly, reason } from '../platform/platform.type';

const MarkPastDueInput = builder.inputType('MarkPastDueInput', {
  fields: (t) => ({ reason: t.string({ required: true, validate: reason }) }),
});

const MarkPastDuePayload = payloadType<{ organizationIds: string[] }>('MarkPastDuePayload', {
  fields: (t) => ({
    organizationIds: t.idList({
      description: 'The organizations whose subscription turned PAST_DUE (PlatformOrganization IDs).',
      resolve: (payload) => payload.organizationIds.map((id) => encodeGlobalID('PlatformOrganization', id)),
    }),
  }),
});

builder.mutationField('markPastDue', (t) =>
  t.field({
    ...platformOnly,
    type: MarkPastDuePayload,
    description:
      'Turns PAST_DUE every subscription with an OPEN invoice past its due date, as the daily job (npm run billing:past-due) does. Recorded in the audit log, with the reason.',
    args: { input: t.arg({ type: MarkPastDueInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db: system, action } = asPlatform(ctx, input.reason);
      await recordAudit(system, { ...action, action: 'subscription.mark_past_due' });
      return { organizationIds: await markPastDue(system) };
    },
  }),
);
