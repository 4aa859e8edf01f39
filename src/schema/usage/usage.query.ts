import { z } from 'zod';
import { builder } from '../../builder';
import { notFound } from '../../errors';
import { organizationUsage } from '../../platform/usage';
import { daysInclusive } from '../../usage/days';
import { MAX_PERIOD_DAYS, resolvePeriod, type DayRange } from '../../usage/period';
import { readUsage, type UsageReport } from '../../usage/report';
import { globalIdOf } from '../global-id';
import { Money } from '../money';
import { asPlatform, platformOnly, reason } from '../platform/platform.type';

/**
 * Usage: what an organization consumed in a period (API calls, bytes sent,
 * execution time, storage, active users) and what it would cost. Counted by
 * src/plugins/use-usage.ts into src/usage/recorder.ts, which writes usage_daily
 * and usage_active_users about every second: the figures trail the requests by
 * that much. An organization reads only its own (RLS); platform operators read
 * any organization's through `platformUsage`, audited.
 */

const UsagePresetEnum = builder.enumType('UsagePreset', {
  values: {
    CURRENT_MONTH: { description: 'This calendar month (UTC), first to last day; usage so far.' },
    LAST_MONTH: { description: 'The previous calendar month (UTC).' },
  } as const,
});

const DateRange = builder.inputType('DateRange', {
  description: `Days from \`from\` to \`to\`, both included (UTC); at most ${MAX_PERIOD_DAYS} days.`,
  fields: (t) => ({
    from: t.field({ type: 'Date', required: true }),
    to: t.field({ type: 'Date', required: true }),
  }),
  validate: z.object({ from: z.date(), to: z.date() }).superRefine(({ from, to }, issues) => {
    if (to < from) issues.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (daysInclusive(from, to) > MAX_PERIOD_DAYS) {
      issues.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_PERIOD_DAYS - 1} days after from: a range covers at most ${MAX_PERIOD_DAYS} days` });
    }
  }),
});

const UsagePeriod = builder.inputType('UsagePeriod', {
  description: 'A preset month or a range of days: exactly one of them.',
  isOneOf: true,
  fields: (t) => ({
    preset: t.field({ type: UsagePresetEnum }),
    range: t.field({ type: DateRange }),
  }),
});

const DatePeriod = builder.objectRef<DayRange>('DatePeriod').implement({
  description: 'Days from `from` to `to`, both included (UTC).',
  fields: (t) => ({
    from: t.expose('from', { type: 'Date' }),
    to: t.expose('to', { type: 'Date' }),
  }),
});

const Usage = builder.objectRef<UsageReport>('Usage').implement({
  description: "An organization's usage over a period, as written by the gateway's usage recorder (about a second behind).",
  fields: (t) => ({
    period: t.expose('period', { type: DatePeriod, description: 'The days counted: a preset resolved to its month.' }),
    apiCalls: t.field({
      type: 'SafeInt',
      description: 'GraphQL operations executed for the organization. A request counts once it has been answered, so `usage` does not include itself.',
      resolve: (usage) => usage.apiCalls,
    }),
    bandwidth: t.field({ type: 'SafeInt', description: 'Bytes of the responses sent.', resolve: (usage) => usage.bandwidthBytes }),
    computeTime: t.field({ type: 'SafeInt', description: 'Milliseconds spent executing the operations.', resolve: (usage) => usage.computeMs }),
    storage: t.field({ type: 'SafeInt', description: 'Bytes held now: a level, the same for every period.', resolve: (usage) => usage.storageBytes }),
    activeUsers: t.field({ type: 'SafeInt', description: 'Distinct users who made a request on a day of the period.', resolve: (usage) => usage.activeUsers }),
    estimatedCost: t.field({
      type: Money,
      description:
        "The period priced as one month of the current subscription: base, seats and add-ons in full, plus the period's bandwidth and compute beyond one month's allowance. " +
        'For the current month, the bill so far (not a projection); other periods are not prorated.',
      resolve: ({ estimatedCost }) => ({ amountMinor: estimatedCost.totalMinor, currency: estimatedCost.currency }),
    }),
  }),
});

builder.queryFields((t) => ({
  usage: t.field({
    type: Usage,
    description: "The active organization's usage over a period.",
    args: { period: t.arg({ type: UsagePeriod, required: true }) },
    resolve: async (_root, { period }, ctx) => {
      const report = await readUsage(ctx.tenantDb(), ctx.viewer!.organizationId, resolvePeriod(period, ctx.now()));
      return report ?? Promise.reject(notFound('Organization'));
    },
  }),
  platformUsage: t.field({
    ...platformOnly,
    type: Usage,
    description: "Any organization's usage over a period. Recorded in the audit log, with the reason.",
    args: {
      organizationId: t.arg.id({ required: true, validate: globalIdOf('PlatformOrganization') }),
      period: t.arg({ type: UsagePeriod, required: true }),
      reason: t.arg.string({ required: true, validate: reason }),
    },
    resolve: (_root, args, ctx) => {
      const { db, action } = asPlatform(ctx, args.reason);
      return organizationUsage(db, { organizationId: String(args.organizationId), period: resolvePeriod(args.period, ctx.now()) }, action);
    },
  }),
}));
