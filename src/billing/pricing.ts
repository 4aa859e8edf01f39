import type { AddOn, Plan, PlanPrice } from '../generated/prisma/client';

/**
 * What a month of a subscription costs: the base plan, its seats, its add-ons
 * and metered overage beyond what the plan includes. Prices are data
 * (plan_prices, add_ons); money is integer minor units (cents) in bigint, never
 * floats. Used for `usage { estimatedCost }` and for invoices, so the estimate
 * and the bill cannot disagree.
 */

/** What a line item charges for; invoice_line_items.kind accepts these (a CHECK constraint). */
export const LINE_ITEM_KINDS = ['BASE_PLAN', 'SEATS', 'ADD_ON', 'OVERAGE'] as const;
export type LineItemKind = (typeof LINE_ITEM_KINDS)[number];

export interface LineItem {
  kind: LineItemKind;
  description: string;
  quantity: bigint;
  unitPriceMinor: bigint;
  amountMinor: bigint;
}

export interface Charges {
  currency: string;
  lineItems: LineItem[];
  totalMinor: bigint;
}

export interface MeteredUsage {
  bandwidthBytes: bigint;
  computeMs: bigint;
}

export interface PriceList {
  plans: Map<Plan, PlanPrice>;
  addOns: Map<string, AddOn>;
}

const GB = 1024n ** 3n;
const HOUR_MS = 3_600_000n;

/** Whole units started: 1 byte over is 1 GB of overage. */
const unitsStarted = (amount: bigint, unit: bigint) => (amount <= 0n ? 0n : (amount + unit - 1n) / unit);

/** Any client that can read the price tables: the tenant client and the system client both can. */
export interface PriceReader {
  planPrice: { findMany(): Promise<PlanPrice[]> };
  addOn: { findMany(): Promise<AddOn[]> };
}

export async function loadPriceList(db: PriceReader): Promise<PriceList> {
  const [plans, addOns] = await Promise.all([db.planPrice.findMany(), db.addOn.findMany()]);
  return { plans: new Map(plans.map((p) => [p.plan, p])), addOns: new Map(addOns.map((a) => [a.code, a])) };
}

export interface SubscriptionTerms {
  plan: Plan;
  seats: number;
  addOns: string[];
}

/** One day of a billing period and the terms it is charged at (src/billing/proration.ts chooses them). */
export interface PricedDay {
  terms: SubscriptionTerms;
  /** The day's metered usage. */
  usage: MeteredUsage;
}

/** A whole month of one subscription: what `usage { estimatedCost }` shows, priced as an invoice would price it. */
export function priceMonth(prices: PriceList, terms: SubscriptionTerms, usage: MeteredUsage): Charges {
  return priceDays(prices, 1, [{ terms, usage }]);
}

/** `amount × days / daysInPeriod`, rounded half up (amounts are never negative). */
function prorate(amount: bigint, days: number, daysInPeriod: number): bigint {
  const n = BigInt(daysInPeriod);
  return (amount * BigInt(days) * 2n + n) / (2n * n);
}

/**
 * Prices the billed days of a period of `daysInPeriod` days (proration, ADR
 * 0033): the plan with its seats, and each add-on, for the days it was charged,
 * at its monthly price × days / daysInPeriod (rounded half up, per line). A
 * line for fewer days than the period says so (`, 20 of 31 days`). Metered
 * overage is counted per plan: the usage of the days charged at a plan against
 * that plan's allowance for those days (allowance × days / daysInPeriod,
 * rounded down), at that plan's rates. A whole period at one subscription is
 * priced exactly as before proration: monthly prices, whole allowance.
 */
export function priceDays(prices: PriceList, daysInPeriod: number, days: readonly PricedDay[]): Charges {
  const priceOf = (plan: Plan) => {
    const price = prices.plans.get(plan);
    if (!price) throw new Error(`No price for plan ${plan}`);
    return price;
  };
  // Counted in the order they first appear, so the lines read in time order.
  const plans = new Map<Plan, number>();
  const seats = new Map<string, { plan: Plan; seats: number; days: number }>();
  const addOns = new Map<string, number>();
  const usageByPlan = new Map<Plan, { days: number; bandwidthBytes: bigint; computeMs: bigint }>();
  for (const { terms, usage } of days) {
    plans.set(terms.plan, (plans.get(terms.plan) ?? 0) + 1);
    const key = `${terms.plan}/${terms.seats}`;
    const entry = seats.get(key) ?? { plan: terms.plan, seats: terms.seats, days: 0 };
    entry.days += 1;
    seats.set(key, entry);
    for (const code of terms.addOns) addOns.set(code, (addOns.get(code) ?? 0) + 1);
    const metered = usageByPlan.get(terms.plan) ?? { days: 0, bandwidthBytes: 0n, computeMs: 0n };
    metered.days += 1;
    metered.bandwidthBytes += usage.bandwidthBytes;
    metered.computeMs += usage.computeMs;
    usageByPlan.set(terms.plan, metered);
  }
  const first = days[0];
  if (!first) throw new Error('priceDays: no day to price');
  const currency = priceOf(first.terms.plan).currency;

  const lineItems: LineItem[] = [];
  const add = (kind: LineItemKind, description: string, quantity: bigint, unitPriceMinor: bigint, dayCount = daysInPeriod) => {
    if (quantity <= 0n) return;
    const whole = dayCount >= daysInPeriod;
    lineItems.push({
      kind,
      description: whole ? description : `${description}, ${dayCount} of ${daysInPeriod} days`,
      quantity,
      unitPriceMinor,
      amountMinor: whole ? quantity * unitPriceMinor : prorate(quantity * unitPriceMinor, dayCount, daysInPeriod),
    });
  };
  const checkCurrency = (what: string, other: string) => {
    if (other !== currency) throw new Error(`${what} is priced in ${other}, the plan in ${currency}`);
  };

  const onPlan = plans.size > 1;
  for (const [plan, count] of plans) {
    checkCurrency(`Plan ${plan}`, priceOf(plan).currency);
    add('BASE_PLAN', `${plan} plan`, 1n, priceOf(plan).baseMinor, count);
  }
  for (const { plan, seats: n, days: count } of seats.values()) {
    add('SEATS', `Seats (${n})${onPlan ? ` on ${plan}` : ''}`, BigInt(n), priceOf(plan).seatMinor, count);
  }
  for (const [code, count] of addOns) {
    const addOn = prices.addOns.get(code);
    if (!addOn) throw new Error(`Unknown add-on ${code}`);
    checkCurrency(`Add-on ${code}`, addOn.currency);
    add('ADD_ON', addOn.name, 1n, addOn.priceMinor, count);
  }
  for (const [plan, metered] of usageByPlan) {
    const price = priceOf(plan);
    const suffix = onPlan ? ` on ${plan}` : '';
    const allowance = (included: bigint) => (metered.days >= daysInPeriod ? included : (included * BigInt(metered.days)) / BigInt(daysInPeriod));
    add('OVERAGE', `Bandwidth beyond the plan (per GB started)${suffix}`, unitsStarted(metered.bandwidthBytes - allowance(price.includedBandwidthBytes), GB), price.bandwidthGbMinor);
    add('OVERAGE', `Compute time beyond the plan (per hour started)${suffix}`, unitsStarted(metered.computeMs - allowance(price.includedComputeMs), HOUR_MS), price.computeHourMinor);
  }

  return { currency, lineItems, totalMinor: lineItems.reduce((sum, item) => sum + item.amountMinor, 0n) };
}
