import { InvoiceStatus } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import { isoDate, periodOf } from '../../billing/period';
import { LINE_ITEM_KINDS, type LineItem } from '../../billing/pricing';
import { Money } from '../money';
import { PlanEnum } from './plan.type';

/** An organization's invoices, as its owners and admins see them (see billing/invoices.query.ts). */

export const InvoiceStatusEnum = builder.enumType(InvoiceStatus, { name: 'InvoiceStatus' });
const LineItemKindEnum = builder.enumType('InvoiceLineItemKind', { values: LINE_ITEM_KINDS });

const InvoiceLineItem = builder.objectRef<Omit<LineItem, 'kind'> & { kind: string; currency: string }>('InvoiceLineItem').implement({
  fields: (t) => ({
    kind: t.field({ type: LineItemKindEnum, resolve: (item) => item.kind as LineItem['kind'] }),
    description: t.exposeString('description'),
    quantity: t.field({ type: 'SafeInt', resolve: (item) => item.quantity }),
    unitPrice: t.field({ type: Money, resolve: (item) => ({ amountMinor: item.unitPriceMinor, currency: item.currency }) }),
    amount: t.field({ type: Money, resolve: (item) => ({ amountMinor: item.amountMinor, currency: item.currency }) }),
  }),
});

export const Invoice = builder.prismaNode('Invoice', {
  description: 'One month of the subscription: issued when the month is invoiced, due 15 days later.',
  // The primary key is (organization_id, id); the global ID carries only the id.
  id: { resolve: (invoice) => invoice.id },
  // `null` for a missing id, another organization's, and for a member who is
  // neither owner nor admin: RLS returns no row for any of them.
  nullable: true,
  findUnique: (id, ctx) => ({ organizationId_id: { organizationId: ctx.viewer!.organizationId, id } }),
  fields: (t) => ({
    period: t.string({ description: 'The month billed, e.g. 2026-10.', resolve: (invoice) => periodOf(invoice.period).label }),
    status: t.expose('status', { type: InvoiceStatusEnum }),
    plan: t.expose('plan', { type: PlanEnum, description: 'The plan as it was when the invoice was issued.' }),
    total: t.field({ type: Money, resolve: (invoice) => ({ amountMinor: invoice.totalMinor, currency: invoice.currency }) }),
    lineItems: t.field({
      type: [InvoiceLineItem],
      select: { currency: true, lineItems: { orderBy: { position: 'asc' } } },
      resolve: (invoice) => invoice.lineItems.map((item) => ({ ...item, currency: invoice.currency })),
    }),
    dueDate: t.string({ description: 'The last day to pay (UTC), e.g. 2026-11-16. Unpaid after it, the subscription turns PAST_DUE.', resolve: (invoice) => isoDate(invoice.dueDate) }),
    issuedAt: t.expose('issuedAt', { type: 'DateTime' }),
    paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
  }),
});
