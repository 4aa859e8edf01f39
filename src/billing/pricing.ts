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

export function priceMonth(prices: PriceList, terms: SubscriptionTerms, usage: MeteredUsage): Charges {
  const price = prices.plans.get(terms.plan);
  if (!price) throw new Error(`No price for plan ${terms.plan}`);
  const lineItems: LineItem[] = [];
  const add = (kind: LineItemKind, description: string, quantity: bigint, unitPriceMinor: bigint) => {
    if (quantity > 0n) lineItems.push({ kind, description, quantity, unitPriceMinor, amountMinor: quantity * unitPriceMinor });
  };

  add('BASE_PLAN', `${terms.plan} plan`, 1n, price.baseMinor);
  add('SEATS', `Seats (${terms.seats})`, BigInt(terms.seats), price.seatMinor);
  for (const code of terms.addOns) {
    const addOn = prices.addOns.get(code);
    if (!addOn) throw new Error(`Unknown add-on ${code}`);
    if (addOn.currency !== price.currency) throw new Error(`Add-on ${code} is priced in ${addOn.currency}, the plan in ${price.currency}`);
    add('ADD_ON', addOn.name, 1n, addOn.priceMinor);
  }
  add('OVERAGE', 'Bandwidth beyond the plan (per GB started)', unitsStarted(usage.bandwidthBytes - price.includedBandwidthBytes, GB), price.bandwidthGbMinor);
  add('OVERAGE', 'Compute time beyond the plan (per hour started)', unitsStarted(usage.computeMs - price.includedComputeMs, HOUR_MS), price.computeHourMinor);

  return { currency: price.currency, lineItems, totalMinor: lineItems.reduce((sum, item) => sum + item.amountMinor, 0n) };
}
