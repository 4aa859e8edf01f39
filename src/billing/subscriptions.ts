import { lockQuota } from '../quotas/enforce';
import type { TenantClient } from '../db/tenant';
import type { Plan } from '../generated/prisma/enums';
import { badUserInput, notFound, paymentRequired, type FieldProblem } from '../errors';
import { readSettings } from '../settings';
import { withinEntitlements, type PaidSetting } from './entitlements';

/**
 * An organization changes its own subscription (updateSubscription, owners
 * only): plan, seats and add-ons. Status and paid_through move only with
 * payments (src/billing/payments.ts); the runtime role may not write them.
 */

export interface SubscriptionChange {
  plan?: Plan;
  seats?: number;
  /** Replaces the list. */
  addOns?: string[];
}

/**
 * Applies the change to the active organization's subscription, in one tenant
 * transaction. The rule: never fewer seats than members.
 *
 * Race-safe against addMember: the transaction first takes the lock that
 * addMember's USERS quota check holds until it commits (lockQuota), then
 * locks the subscription row, and only then counts the members. A member being
 * added meanwhile is either committed before the count, or added after this
 * change has committed.
 */
export function updateSubscription(db: TenantClient, organizationId: string, change: SubscriptionChange): Promise<{ switchedOff: PaidSetting[] }> {
  return db.$transaction(async (tx) => {
    await lockQuota(tx, 'USERS');
    const [locked] = await tx.$queryRaw<{ seats: number; status: string }[]>`SELECT seats, status::text AS status FROM subscriptions WHERE organization_id = ${organizationId}::uuid FOR UPDATE`;
    if (!locked) throw notFound('Subscription');
    // SECURITY: a canceled organization comes back through a payment or a platform operator (src/billing/entitlements.ts).
    if (locked.status === 'CANCELED') throw paymentRequired('The subscription is canceled: it is renewed through payment or a platform operator, not changed here');

    const problems: FieldProblem[] = [];
    if (change.seats !== undefined) {
      const members = await tx.membership.count();
      if (change.seats < members) problems.push({ field: 'input.seats', message: `must be at least ${members}, the number of members` });
    }
    if (change.addOns?.length) {
      const known = (await tx.addOn.findMany({ select: { code: true }, orderBy: { code: 'asc' } })).map((addOn) => addOn.code);
      change.addOns.forEach((code, index) => {
        if (!known.includes(code)) problems.push({ field: `input.addOns.${index}`, message: `is not an add-on; there are ${known.join(', ')}` });
      });
    }
    if (problems.length) throw badUserInput(problems);

    const updated = await tx.subscription.update({ where: { organizationId }, data: { plan: change.plan, seats: change.seats, addOns: change.addOns } });
    // What the new subscription no longer includes is switched off with it, in the same transaction.
    const [row] = await tx.$queryRaw<{ settings: unknown }[]>`SELECT settings FROM organizations WHERE id = ${organizationId}::uuid FOR UPDATE`;
    const { settings, switchedOff } = withinEntitlements(readSettings(row?.settings), updated);
    if (switchedOff.length) await tx.organization.update({ where: { id: organizationId }, data: { settings: settings as object } });
    return { switchedOff };
  });
}
