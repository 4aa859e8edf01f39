import type { Plan, SubscriptionStatus } from '../generated/prisma/enums';
import { utcDay } from '../usage/days';
import type { BillingPeriod } from './period';
import type { PriceList, SubscriptionTerms } from './pricing';

/**
 * Which terms each day of a billing period is charged at, from the
 * subscription's history (subscription_history, written by a trigger in the
 * transaction of every change; ADR 0033). The rule, per UTC day:
 *
 * - the states in force during the day are the one in force at its start and
 *   every one that took effect within it; CANCELED states are not charged, and a
 *   day with no other state (canceled all day, or before the subscription's
 *   first state) is not billed;
 * - the day is charged at the dearest of those states' plan and seats (base
 *   price + seats × seat price), and for every add-on that any of them had.
 *
 * So an upgrade for an hour costs the day, and a downgrade before the invoice
 * run saves nothing for the days before it. Days belong to one period only, so
 * consecutive invoices never charge a day twice.
 */

export interface SubscriptionState {
  effectiveAt: Date;
  plan: Plan;
  status: SubscriptionStatus;
  seats: number;
  addOns: string[];
}

export interface ChargedDay {
  /** `YYYY-MM-DD` */
  day: string;
  terms: SubscriptionTerms;
}

const DAY_MS = 86_400_000;

/** The days of `period` and their terms; `history` sorted by effectiveAt (then by insertion), beginning with the state in force at the period's start if there is one. */
export function chargedDays(prices: PriceList, period: BillingPeriod, history: readonly SubscriptionState[]): ChargedDay[] {
  const monthly = (state: SubscriptionState) => {
    const price = prices.plans.get(state.plan);
    if (!price) throw new Error(`No price for plan ${state.plan}`);
    return price.baseMinor + BigInt(state.seats) * price.seatMinor;
  };
  const days: ChargedDay[] = [];
  let next = 0; // the first state not yet in force
  let current: SubscriptionState | undefined;
  for (let start = period.start.getTime(); start < period.end.getTime(); start += DAY_MS) {
    const end = start + DAY_MS;
    while (next < history.length && history[next].effectiveAt.getTime() <= start) current = history[next++];
    const during = current ? [current] : [];
    while (next < history.length && history[next].effectiveAt.getTime() < end) {
      current = history[next++];
      during.push(current);
    }
    const charged = during.filter((state) => state.status !== 'CANCELED');
    if (!charged.length) continue;
    const dearest = charged.reduce((best, state) => (monthly(state) > monthly(best) ? state : best));
    const addOns = [...new Set(charged.flatMap((state) => state.addOns))];
    days.push({ day: utcDay(start), terms: { plan: dearest.plan, seats: dearest.seats, addOns } });
  }
  return days;
}

/** Days in a period: 28 to 31. */
export function daysIn(period: BillingPeriod): number {
  return Math.round((period.end.getTime() - period.start.getTime()) / DAY_MS);
}
