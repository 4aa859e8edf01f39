import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { writeAccess } from '../billing/entitlements';
import type { SubscriptionStatus } from '../generated/prisma/enums';
import type { Context } from '../context';
import { paymentRequired } from '../errors';

/**
 * Read-only organizations (src/billing/entitlements.ts): a mutation of an
 * organization whose subscription is CANCELED, or PAST_DUE past its grace
 * period, is answered PAYMENT_REQUIRED (402) before anything executes. Reads
 * are not touched, and cost nothing here.
 *
 * PERF: the subscription is read (RLS-scoped, through the tenant client) for
 * mutations only, and remembered per organization for `cacheMs`: a status
 * change (a payment, a cancellation, the end of a grace period counted in days)
 * takes effect within that time.
 */
export function useBillingGate({ graceDays, now = Date.now, cacheMs = 10_000 }: { graceDays: number; now?: () => number; cacheMs?: number }): Plugin<Context> {
  const cache = new LRUCache<string, { status: SubscriptionStatus; pastDueSince: Date | null }>({ max: 10_000, ttl: cacheMs, ttlAutopurge: false });
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      if (!ctx.viewer) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      const organizationId = ctx.viewer.organizationId;
      let subscription = cacheMs > 0 ? cache.get(organizationId) : undefined;
      if (!subscription) {
        const row = await ctx.tenantDb().subscription.findUnique({ where: { organizationId }, select: { status: true, pastDueSince: true } });
        if (!row) return;
        subscription = row;
        if (cacheMs > 0) cache.set(organizationId, row);
      }
      const access = writeAccess(subscription, now(), graceDays);
      if (!access.allowed) setResultAndStopExecution({ errors: [paymentRequired(access.reason, { status: subscription.status })] });
    },
  };
}
