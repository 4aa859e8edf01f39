import type { SystemDatabase } from '../db/system';
import { Prisma, type Invoice, type PrismaClient } from '../generated/prisma/client';
import type { Plan, SubscriptionStatus } from '../generated/prisma/enums';
import { dueDateFor, isoDate, type BillingPeriod } from './period';
import { loadPriceList, priceDays, type Charges, type MeteredUsage } from './pricing';
import { chargedDays, daysIn, type SubscriptionState } from './proration';

/**
 * Monthly invoicing: one invoice per organization and month, priced by
 * priceDays from the subscription's history (plan, seats, add-ons and status
 * as they were on each day of the month: src/billing/proration.ts) and the
 * month's metered usage per day (usage_daily). Runs on the system client: it
 * crosses organizations. `npm run billing:invoice` and the platform operator's
 * generateInvoices mutation call it.
 *
 * - Issued when it runs (issued_at = now), due PAYMENT_TERMS_DAYS (15) days
 *   after that date. Each plan, seat count and add-on is charged for the days
 *   it was in force (proration, ADR 0033), never as the subscription happens to
 *   be when the job runs: a downgrade before the run saves nothing. The
 *   invoice's `plan` is the plan of its last charged day.
 * - Idempotent: the unique index (organization_id, period) decides. The insert
 *   is ON CONFLICT DO NOTHING, so two runs at once, in two processes, still
 *   create one invoice per organization, and the loser counts it as skipped.
 * - An invoice and its line items are written in one transaction: never an
 *   invoice without its lines.
 * - A total of 0 (a FREE plan within its allowance) is issued PAID: there is
 *   nothing to collect, and it must never make a subscription past due.
 * - Invoiced: organizations created before the month ended with at least one
 *   charged day in it (a day not CANCELED all day).
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
  const [prices, candidates, invoiced, usage, history] = await Promise.all([
    loadPriceList(db),
    db.subscription.findMany({
      where: { organizationId: only, organization: { createdAt: { lt: period.end } } },
      select: { organizationId: true },
      orderBy: { organizationId: 'asc' },
    }),
    db.invoice.findMany({ where: { organizationId: only, period: period.start }, select: { organizationId: true } }),
    dailyUsage(db, period, only),
    subscriptionHistory(db, period, organizationIds),
  ]);

  // PERF: organizations invoiced before are not priced again; the unique index,
  // not this list, is what keeps a concurrent run from invoicing them twice.
  const already = new Set(invoiced.map((invoice) => invoice.organizationId));
  const run: InvoiceRun = { period, created: [], skipped: 0 };
  const noUsage = { bandwidthBytes: 0n, computeMs: 0n };
  for (const { organizationId } of candidates) {
    const days = chargedDays(prices, period, history.get(organizationId) ?? []);
    if (!days.length) continue; // canceled, or not yet subscribed, for the whole period
    if (already.has(organizationId)) {
      run.skipped += 1;
      continue;
    }
    const metered = usage.get(organizationId);
    const charges = priceDays(prices, daysIn(period), days.map(({ day, terms }) => ({ terms, usage: metered?.get(day) ?? noUsage })));
    const plan = days[days.length - 1].terms.plan;
    const invoice = await issueInvoice(db, { organizationId, plan, period, charges, now });
    if (invoice) run.created.push(invoice);
    else run.skipped += 1;
  }
  return run;
}

/** The period's metered usage per organization and day (`YYYY-MM-DD`). */
async function dailyUsage(db: PrismaClient, period: BillingPeriod, only: { in: string[] } | undefined): Promise<Map<string, Map<string, MeteredUsage>>> {
  const rows = await db.usageDaily.findMany({
    where: { organizationId: only, day: { gte: period.start, lt: period.end } },
    select: { organizationId: true, day: true, bandwidthBytes: true, computeMs: true },
  });
  const byOrganization = new Map<string, Map<string, MeteredUsage>>();
  for (const row of rows) {
    const days = byOrganization.get(row.organizationId) ?? new Map<string, MeteredUsage>();
    days.set(isoDate(row.day), { bandwidthBytes: row.bandwidthBytes, computeMs: row.computeMs });
    byOrganization.set(row.organizationId, days);
  }
  return byOrganization;
}

/**
 * Each organization's subscription states that matter to the period: the one
 * in force at its start (the latest that took effect at or before it) and those
 * that took effect within it, in order. One statement.
 */
async function subscriptionHistory(db: PrismaClient, period: BillingPeriod, organizationIds: readonly string[] | undefined): Promise<Map<string, SubscriptionState[]>> {
  const only = organizationIds ? Prisma.sql`AND h.organization_id = ANY (${[...organizationIds]}::uuid[])` : Prisma.empty;
  const rows = await db.$queryRaw<{ organization_id: string; effective_at: Date; plan: Plan; status: SubscriptionStatus; seats: number; add_ons: string[] }[]>`
    SELECT h.organization_id::text, h.effective_at, h.plan::text AS plan, h.status::text AS status, h.seats, h.add_ons
      FROM subscription_history h
     WHERE h.effective_at < ${period.end} ${only}
       AND (h.effective_at > ${period.start}
            OR h.id = (SELECT p.id FROM subscription_history p
                        WHERE p.organization_id = h.organization_id AND p.effective_at <= ${period.start}
                        ORDER BY p.effective_at DESC, p.id DESC LIMIT 1))
     ORDER BY h.organization_id, h.effective_at, h.id`;
  const byOrganization = new Map<string, SubscriptionState[]>();
  for (const row of rows) {
    const states = byOrganization.get(row.organization_id) ?? [];
    states.push({ effectiveAt: row.effective_at, plan: row.plan, status: row.status, seats: row.seats, addOns: row.add_ons });
    byOrganization.set(row.organization_id, states);
  }
  return byOrganization;
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
