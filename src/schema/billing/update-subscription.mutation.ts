import { z } from 'zod';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { updateSubscription } from '../../billing/subscriptions';
import { PlanEnum } from './plan.type';

const UpdateSubscriptionInput = builder.inputType('UpdateSubscriptionInput', {
  description: 'What to change; a field left out (or null) stays as it is.',
  fields: (t) => ({
    plan: t.field({ type: PlanEnum }),
    seats: t.int({
      description: 'Never fewer than the members the organization has.',
      validate: z.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000'),
    }),
    addOns: t.stringList({
      description: 'Codes of add-ons (add_ons): the new list, replacing the old one. [] removes them all.',
      validate: z
        .array(z.string().trim().min(1, 'must not be empty'))
        .max(20, 'must list at most 20 add-ons')
        .superRefine((codes, issues) =>
          codes.forEach((code, index) => {
            if (codes.indexOf(code) !== index) issues.addIssue({ code: 'custom', path: [index], message: `lists ${code} twice` });
          }),
        ),
    }),
  }),
});

const UpdateSubscriptionPayload = payloadType<{ organizationId: string }>('UpdateSubscriptionPayload', {
  fields: (t) => ({
    organization: t.prismaField({
      type: 'Organization',
      description: 'The organization, with its subscription as changed.',
      resolve: (query, payload, _args, ctx) => ctx.tenantDb().organization.findUniqueOrThrow({ ...query, where: { id: payload.organizationId } }),
    }),
  }),
});

builder.mutationField('updateSubscription', (t) =>
  t.field({
    type: UpdateSubscriptionPayload,
    description: "Changes the organization's plan, seats and add-ons. Owners only.",
    authScopes: { role: ['OWNER'] },
    args: { input: t.arg({ type: UpdateSubscriptionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = ctx.viewer!.organizationId;
      await updateSubscription(ctx.tenantDb(), organizationId, {
        plan: input.plan ?? undefined,
        seats: input.seats ?? undefined,
        addOns: input.addOns ?? undefined,
      });
      return { organizationId };
    },
  }),
);
