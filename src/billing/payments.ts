import type { SystemDatabase } from '../db/system';
import { Prisma, type Invoice } from '../generated/prisma/client';
import type { SubscriptionStatus } from '../generated/prisma/enums';
import { recordAudit, type PlatformAction } from '../platform/organizations';
import { isoDate, periodOf } from './period';

/**
 * Payments and their absence. Both run on the system client: the runtime role
 * may not write invoices nor a subscription's status and paid_through.
 *
 * - A payment (recordPayment, by a platform operator or the payment webhook)
 *   must be of the invoice's exact total and currency. It marks the invoice
 *   PAID, makes the subscription ACTIVE (PAST_DUE while another invoice is still
 *   overdue; CANCELED stays CANCELED) and moves paid_through a month on from the
 *   later of now and the current paid_through. One transaction, with the invoice
 *   row locked, so a payment applies once however often it is delivered.
 * - markPastDue: a subscription with an OPEN invoice past its due date turns
 *   PAST_DUE. A cron runs it daily (`npm run billing:past-due`); `npm run
 *   billing:invoice` runs it after invoicing.
 */

export interface Payment {
  /** The invoice's id (the row id, not a global ID). */
  invoiceId: string;
  amountMinor: bigint;
  /** Checked when given (the webhook's payload names it). */
  currency?: string;
  /** @default new Date() */
  now?: Date;
}

/** What became of a payment; each caller (GraphQL, the webhook) says it in its own terms. */
export type PaymentOutcome =
  | { kind: 'paid'; invoice: Invoice; subscription: { status: SubscriptionStatus; paidThrough: Date } }
  /** Nothing changed: the invoice was paid before. */
  | { kind: 'already-paid'; invoice: Invoice }
  | { kind: 'void'; invoice: Invoice }
  | { kind: 'amount-mismatch'; invoice: Invoice }
  | { kind: 'not-found' };

/** For an amount that is not the invoice's total. */
export function expectedAmount(invoice: Pick<Invoice, 'totalMinor' | 'currency'>): string {
  return `must equal the invoice total, ${invoice.totalMinor} (${invoice.currency} minor units)`;
}

/** An OPEN invoice of the subscription's organization (aliased `s`) whose due date is before `today`. */
const hasOverdueInvoice = (today: Date) =>
  Prisma.sql`EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = s.organization_id AND i.status = 'OPEN' AND i.due_date < ${isoDate(today)}::date)`;

/** Applies a payment to its invoice; with `audit`, records 'invoice.pay' in the same transaction. */
export function recordPayment(system: SystemDatabase, payment: Payment, audit?: PlatformAction): Promise<PaymentOutcome> {
  const now = payment.now ?? new Date();
  return system.prisma.$transaction(async (tx): Promise<PaymentOutcome> => {
    // Locked until COMMIT: of two deliveries at once, the second waits and then sees PAID.
    // PERF: invoices has no index led by id (every index leads with organization_id),
    // so this scans the table: one row per organization and month, for a payment.
    const [locked] = await tx.$queryRaw<{ organization_id: string }[]>`
      SELECT organization_id FROM invoices WHERE id = ${payment.invoiceId}::uuid FOR UPDATE`;
    if (!locked) return { kind: 'not-found' };
    const key = { organizationId_id: { organizationId: locked.organization_id, id: payment.invoiceId } };
    const invoice = await tx.invoice.findUniqueOrThrow({ where: key });
    if (invoice.status === 'PAID') return { kind: 'already-paid', invoice };
    if (invoice.status === 'VOID') return { kind: 'void', invoice };
    if (payment.amountMinor !== invoice.totalMinor || (payment.currency !== undefined && payment.currency !== invoice.currency)) {
      return { kind: 'amount-mismatch', invoice };
    }

    const paid = await tx.invoice.update({ where: key, data: { status: 'PAID', paidAt: now, paidMinor: payment.amountMinor } });
    // A month on in UTC calendar months: PostgreSQL clamps Jan 31 + 1 month to Feb 28/29.
    const [subscription] = await tx.$queryRaw<{ status: SubscriptionStatus; paid_through: Date }[]>`
      UPDATE subscriptions s
         SET status = CASE WHEN s.status = 'CANCELED' THEN s.status
                           WHEN ${hasOverdueInvoice(now)} THEN 'PAST_DUE'::"SubscriptionStatus"
                           ELSE 'ACTIVE'::"SubscriptionStatus" END,
             paid_through = ((GREATEST(s.paid_through, ${now}::timestamptz) AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC',
             -- Still PAST_DUE (another invoice overdue): its grace period keeps its start.
             past_due_since = CASE WHEN s.status <> 'CANCELED' AND ${hasOverdueInvoice(now)} THEN s.past_due_since ELSE NULL END,
             updated_at = ${now}::timestamptz
       WHERE s.organization_id = ${invoice.organizationId}::uuid
      RETURNING s.status::text AS status, s.paid_through`;
    if (!subscription) throw new Error(`Organization ${invoice.organizationId} has no subscription row`);
    if (audit) {
      await recordAudit(tx, {
        ...audit,
        action: 'invoice.pay',
        subjectOrganizationId: invoice.organizationId,
        details: { invoiceId: invoice.id, period: periodOf(invoice.period).label, amountMinor: Number(payment.amountMinor), currency: invoice.currency, ...audit.details },
      });
    }
    return { kind: 'paid', invoice: paid, subscription: { status: subscription.status, paidThrough: subscription.paid_through } };
  });
}

/**
 * Turns PAST_DUE every ACTIVE or TRIALING subscription with an OPEN invoice
 * whose due date has passed (due_date < today, UTC: the due date itself is
 * still on time). Returns the organizations it changed. One statement.
 *
 * The overdue invoices are locked FOR SHARE: an invoice that a payment is
 * paying meanwhile is waited for and then read again (PAID, so left out), and a
 * payment that comes after waits for this statement and then makes the
 * subscription ACTIVE. A bare EXISTS would read the invoice as of the
 * statement's start and could undo a payment that committed a moment before.
 */
export async function markPastDue(system: SystemDatabase, now: Date = new Date()): Promise<string[]> {
  const rows = await system.prisma.$queryRaw<{ organization_id: string }[]>`
    WITH overdue AS (
      SELECT i.organization_id FROM invoices i WHERE i.status = 'OPEN' AND i.due_date < ${isoDate(now)}::date FOR SHARE
    )
    UPDATE subscriptions s SET status = 'PAST_DUE', past_due_since = ${now}::timestamptz, updated_at = ${now}::timestamptz
     WHERE s.status IN ('ACTIVE', 'TRIALING') AND s.organization_id IN (SELECT organization_id FROM overdue)
    RETURNING s.organization_id`;
  return rows.map((row) => row.organization_id);
}
