import type { Subscription } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { notFound } from '../../errors';
import { readQuotas } from '../../quotas/limits';
import { PlanEnum, SubscriptionStatusEnum } from '../billing/plan.type';
import { Settings, settingsView } from './organization-settings.type';
import { Quota } from '../quotas/quota.type';

type SubscriptionView = Pick<Subscription, 'plan' | 'status' | 'seats' | 'addOns' | 'paidThrough'>;

const DEFAULT_SUBSCRIPTION: SubscriptionView = { plan: 'FREE', status: 'ACTIVE', seats: 5, addOns: [], paidThrough: null };

const SubscriptionType = builder.objectRef<SubscriptionView>('Subscription').implement({
  description: "The organization's plan and billing state.",
  fields: (t) => ({
    plan: t.expose('plan', { type: PlanEnum }),
    status: t.expose('status', { type: SubscriptionStatusEnum }),
    seats: t.exposeInt('seats'),
    addOns: t.exposeStringList('addOns'),
    paidThrough: t.expose('paidThrough', { type: 'DateTime', nullable: true }),
  }),
});

export const Organization = builder.prismaNode('Organization', {
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    domains: t.relation('domains', { query: { orderBy: { domain: 'asc' } } }),
    subscription: t.field({
      type: SubscriptionType,
      select: { subscription: true },
      // Every organization gets a subscription row when it is created; the
      // default covers rows made by hand.
      resolve: (organization) =>
        organization.subscription ?? DEFAULT_SUBSCRIPTION,
    }),
    quotas: t.field({
      type: [Quota],
      description: "The plan's limits (or a platform operator's overrides) and their use, one per QuotaResource.",
      // An Organization is always the request's own (RLS shows no other row), and
      // readQuotas reads for app.current_org_id(): the same organization.
      resolve: (_organization, _args, ctx) => readQuotas(ctx.tenantDb()),
    }),
    settings: t.field({
      type: Settings,
      select: { settings: true },
      // SECURITY: only the masked hints of secrets; the runtime role cannot read
      // the values anyway (a column grant). Read by a query of their own, not as a
      // relation of the organization: Prisma's join strategy selects every column
      // of a joined table, which that grant refuses. An organization shows only
      // itself, so this is one statement per request, not N.
      resolve: async (organization, _args, ctx) => {
        const secrets = await ctx.tenantDb().organizationSecret.findMany({ where: { organizationId: organization.id }, select: { name: true, masked: true } });
        return settingsView({ settings: organization.settings, secrets });
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('organization', (t) =>
  t.prismaField({
    type: 'Organization',
    description: 'The active organization: the one named by the token.',
    resolve: async (query, _root, _args, ctx) => {
      const organization = await ctx.tenantDb().organization.findUnique({ ...query, where: { id: ctx.viewer!.organizationId } });
      if (!organization) throw notFound('Organization');
      return organization;
    },
  }),
);
