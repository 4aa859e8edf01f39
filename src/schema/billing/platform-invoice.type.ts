import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Invoice } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { isoDate, periodOf } from '../../billing/period';
import { Money } from '../money';
import { PlanEnum } from './plan.type';
import { InvoiceStatusEnum } from './invoice.type';

/**
 * An invoice as the platform sees it, in the platform operator's payloads. Its
 * id is the invoice's own (the `Invoice` ID the organization sees, and the one
 * recordPayment and the payment webhook take); its fields resolve from the row
 * the system client returned, never through a tenant client.
 */
export const PlatformInvoice = builder.objectRef<Invoice>('PlatformInvoice').implement({
  fields: (t) => ({
    id: t.id({ resolve: (invoice) => encodeGlobalID('Invoice', invoice.id) }),
    organizationId: t.id({ description: 'A PlatformOrganization ID.', resolve: (invoice) => encodeGlobalID('PlatformOrganization', invoice.organizationId) }),
    period: t.string({ resolve: (invoice) => periodOf(invoice.period).label }),
    status: t.expose('status', { type: InvoiceStatusEnum }),
    plan: t.expose('plan', { type: PlanEnum }),
    total: t.field({ type: Money, resolve: (invoice) => ({ amountMinor: invoice.totalMinor, currency: invoice.currency }) }),
    dueDate: t.string({ resolve: (invoice) => isoDate(invoice.dueDate) }),
    paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
  }),
});
