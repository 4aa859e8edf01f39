import type { SystemDatabase } from '../db/system';
import type { Invoice, Plan, PrismaClient } from '../generated/prisma/client';
import { dueDateFor, type BillingPeriod } from './period';
import { loadPriceList, priceMonth, type Charges, type MeteredUsage } from './pricing';

/**
 * Monthly invoicing: one invoice per organization and month, priced by
 * priceMonth from the subscription (plan, seats, add-ons) and the month's
 * metered usage (usage_daily). Runs on the system client: it crosses
 * organizations. `npm run billing:invoice` and the platform operator's
 * generateInvoices mutation call it.
 *
 * - Issued when it runs (issued_at = now), due PAYMENT_TERMS_DAYS (15) days
 *   after that date. The subscription is priced as it is at that moment: there
 *   is no plan history, and a month is charged whole (no proration).
 * - Idempotent: the unique index (organization_id, period) decides. The insert
 *   is ON CONFLICT DO NOTHING, so two runs at once, in two processes, still
 *   create one invoice per organization, and the loser counts it as skipped.
 * - An invoice and its line items are written in one transaction: never an
 *   invoice without its lines.
 * - A total of 0 (a FREE plan within its allowance) is issued PAID: there is
 *   nothing to collect, and it must never make a subscription past due.
 * - Invoiced: organizations created before the month ended whose subscription
 *   is not CANCELED.
 */

export interface InvoiceRun {
  period: BillingPeriod;
  /** The invoices this run created, with their organizations. */
  created: Invoice[];
  /** Organizations that already had an invoice for the period (from an earlier run, or a concurrent one). */
  skipped: number;
}

export interface InvoiceRunOptions {
  period: BillingPeriod;
  /** The issue date. @default new Date() */
  now?: Date;
  /** Only these organizations (an operator's re-run, the demo seed, the tests). @default every organization */
  organizationIds?: readonly string[];
}

/** `2026-10: created 2, skipped 2 already invoiced` */
export function describeInvoiceRun(run: InvoiceRun): string {
  return `${run.period.label}: created ${run.created.length}, skipped ${run.skipped} already invoiced`;
}

export async function generateInvoices(system: SystemDatabase, { period, now = new Date(), organizationIds }: InvoiceRunOptions): Promise<InvoiceRun> {
  const db = system.prisma;
  const only = organizationIds ? { in: [...organizationIds] } : undefined;
  const [prices, subscriptions, invoiced, usage] = await Promise.all([
    loadPriceList(db),
    db.subscription.findMany({
      where: { organizationId: only, status: { not: 'CANCELED' }, organization: { createdAt: { lt: period.end } } },
      select: { organizationId: true, plan: true, seats: true, addOns: true },
      orderBy: { organizationId: 'asc' },
    }),
    db.invoice.findMany({ where: { organizationId: only, period: period.start }, select: { organizationId: true } }),
    meteredUsage(db, period, only),
  ]);

  // PERF: organizations invoiced before are not priced again; the unique index,
  // not this list, is what keeps a concurrent run from invoicing them twice.
  const already = new Set(invoiced.map((invoice) => invoice.organizationId));
  const run: InvoiceRun = { period, created: [], skipped: 0 };
  for (const subscription of subscriptions) {
    const charges = already.has(subscription.organizationId)
      ? null
      : priceMonth(prices, subscription, usage.get(subscription.organizationId) ?? { bandwidthBytes: 0n, computeMs: 0n });
    const invoice = charges && (await issueInvoice(db, { organizationId: subscription.organizationId, plan: subscription.plan, period, charges, now }));
    if (invoice) run.created.push(invoice);
    else run.skipped += 1;
  }
  return run;
}

/** The month's metered usage per organization: one grouped statement. */
async function meteredUsage(db: PrismaClient, period: BillingPeriod, only: { in: string[] } | undefined): Promise<Map<string, MeteredUsage>> {
  const rows = await db.usageDaily.groupBy({
    by: ['organizationId'],
    where: { organizationId: only, day: { gte: period.start, lt: period.end } },
    _sum: { bandwidthBytes: true, computeMs: true },
  });
  return new Map(rows.map((row) => [row.organizationId, { bandwidthBytes: row._sum.bandwidthBytes ?? 0n, computeMs: row._sum.computeMs ?? 0n }]));
}

/** The invoice and its line items, or null when the organization already has one for the period. */
function issueInvoice(
  db: PrismaClient,
  { organizationId, plan, period, charges, now }: { organizationId: string; plan: Plan; period: BillingPeriod; charges: Charges; now: Date },
): Promise<Invoice | null> {
  const nothingToPay = charges.totalMinor === 0n;
  return db.$transaction(async (tx) => {
    // INSERT … ON CONFLICT DO NOTHING RETURNING: a concurrent run's invoice for
    // the same month makes this return no row (after waiting for its commit).
    const [invoice] = await tx.invoice.createManyAndReturn({
      data: {
        organizationId,
        period: period.start,
        plan,
        currency: charges.currency,
        totalMinor: charges.totalMinor,
        issuedAt: now,
        dueDate: dueDateFor(now),
        status: nothingToPay ? 'PAID' : 'OPEN',
        paidAt: nothingToPay ? now : null,
        paidMinor: nothingToPay ? 0n : null,
      },
      skipDuplicates: true,
    });
    if (!invoice) return null;
    await tx.invoiceLineItem.createMany({
      data: charges.lineItems.map((item, position) => ({
        organizationId,
        invoiceId: invoice.id,
        position,
        kind: item.kind,
        description: item.description,
        quantity: item.quantity,
        unitPriceMinor: item.unitPriceMinor,
        amountMinor: item.amountMinor,
      })),
    });
    return invoice;
  });
}
