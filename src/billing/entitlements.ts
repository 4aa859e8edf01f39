import type { Plan, SubscriptionStatus } from '../generated/prisma/enums';
import type { OrganizationSettings } from '../settings';

/**
 * What an organization's subscription entitles it to: the one place where
 * billing decides access (docs/guides/tokens-billing-support.md says it for users).
 *
 * - A paid setting (PAID_SETTINGS) is on only while the subscription includes
 *   it: its plan includes it, or its add-on is bought, and the subscription is
 *   not CANCELED. Settings may switch off what is bought, never switch on what
 *   is not (FORBIDDEN, naming the add-on); a change of subscription that drops
 *   it switches it off in the same transaction.
 * - Writes: an ACTIVE or TRIALING organization writes; a PAST_DUE one writes
 *   for a grace period (BILLING_GRACE_DAYS, counted from when it turned
 *   PAST_DUE), then is read-only, as is a CANCELED one: every mutation answers
 *   PAYMENT_REQUIRED (402). Reads keep working, so data can be exported.
 * - Plan changes of a CANCELED organization go through a paid path only (a
 *   payment, or a platform operator), never through updateSubscription.
 */

export interface SubscriptionState {
  plan: Plan;
  status: SubscriptionStatus;
  addOns: readonly string[];
  /** When it turned PAST_DUE; null otherwise. */
  pastDueSince: Date | null;
}

/** The settings that a plan or an add-on sells, by their path in the settings document. */
export const PAID_SETTINGS = {
  'features.advancedAnalytics': { addOn: 'advanced-analytics', includedIn: ['ENTERPRISE'] as Plan[] },
  'security.enforceSSO': { addOn: 'sso', includedIn: ['ENTERPRISE'] as Plan[] },
} as const;
export type PaidSetting = keyof typeof PAID_SETTINGS;

/** @default 14 days (BILLING_GRACE_DAYS) */
export const DEFAULT_GRACE_DAYS = 14;
const DAY_MS = 86_400_000;

export function includes(subscription: SubscriptionState, setting: PaidSetting): boolean {
  const { addOn, includedIn } = PAID_SETTINGS[setting];
  return subscription.status !== 'CANCELED' && (includedIn.includes(subscription.plan) || subscription.addOns.includes(addOn));
}

function read(settings: OrganizationSettings, setting: PaidSetting): boolean {
  const [group, key] = setting.split('.') as [keyof OrganizationSettings, string];
  return (settings[group] as unknown as Record<string, unknown>)[key] === true;
}

/** The paid settings that `after` switches on (off or absent in `before`) without the subscription including them. */
export function unpaidSwitchOns(before: OrganizationSettings, after: OrganizationSettings, subscription: SubscriptionState): PaidSetting[] {
  return (Object.keys(PAID_SETTINGS) as PaidSetting[]).filter((s) => read(after, s) && !read(before, s) && !includes(subscription, s));
}

/** `settings` with every paid setting the subscription does not include switched off (unchanged when there is none). */
export function withinEntitlements(settings: OrganizationSettings, subscription: SubscriptionState): { settings: OrganizationSettings; switchedOff: PaidSetting[] } {
  const switchedOff = (Object.keys(PAID_SETTINGS) as PaidSetting[]).filter((s) => read(settings, s) && !includes(subscription, s));
  if (switchedOff.length === 0) return { settings, switchedOff };
  const copy = structuredClone(settings);
  for (const setting of switchedOff) {
    const [group, key] = setting.split('.') as [keyof OrganizationSettings, string];
    (copy[group] as unknown as Record<string, unknown>)[key] = false;
  }
  return { settings: copy, switchedOff };
}

export type WriteAccess = { allowed: true } | { allowed: false; reason: string };

/** Whether the organization may write now (see the rules above). */
export function writeAccess(subscription: Pick<SubscriptionState, 'status' | 'pastDueSince'>, now: number, graceDays = DEFAULT_GRACE_DAYS): WriteAccess {
  if (subscription.status === 'CANCELED') return { allowed: false, reason: 'The subscription is canceled: the organization is read-only' };
  if (subscription.status !== 'PAST_DUE') return { allowed: true };
  // A PAST_DUE row from before past_due_since existed counts from the migration (its backfill).
  const since = subscription.pastDueSince?.getTime() ?? now;
  const ends = since + graceDays * DAY_MS;
  if (now < ends) return { allowed: true };
  return { allowed: false, reason: `Payment is overdue and the grace period ended on ${new Date(ends).toISOString()}: the organization is read-only until the overdue invoice is paid` };
}
