import { z } from 'zod';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { periodOf } from '../../billing/period';
import { expectedAmount, recordPayment } from '../../billing/payments';
import { badUserInput, failedPrecondition, notFound } from '../../errors';
import type { Invoice } from '../../generated/prisma/client';
import type { SubscriptionStatus } from '../../generated/prisma/enums';
import { globalIdOf } from '../global-id';
import { SubscriptionStatusEnum } from './plan.type';
import { asPlatform, platformOnly, reason } from '../platform/platform.type';
import { PlatformInvoice } from './platform-invoice.type';

const RecordPaymentInput = builder.inputType('RecordPaymentInput', {
  fields: (t) => ({
    invoiceId: t.id({ required: true, description: 'An Invoice ID.', validate: globalIdOf('Invoice') }),
    amount: t.field({
      type: 'SafeInt',
      required: true,
      description: "In minor units of the invoice's currency (cents); must equal its total.",
      validate: z.number().int().min(0, 'must not be negative'),
    }),
    reason: t.string({ required: true, validate: reason }),
  }),
});

const RecordPaymentPayload = payloadType<{ invoice: Invoice; subscriptionStatus: SubscriptionStatus; paidThrough: Date }>('RecordPaymentPayload', {
  fields: (t) => ({
    invoice: t.expose('invoice', { type: PlatformInvoice }),
    subscriptionStatus: t.expose('subscriptionStatus', { type: SubscriptionStatusEnum }),
    paidThrough: t.expose('paidThrough', { type: 'DateTime' }),
  }),
});

builder.mutationField('recordPayment', (t) =>
  t.field({
    ...platformOnly,
    type: RecordPaymentPayload,
    description:
      "Records a payment of an invoice's total: the invoice turns PAID, the subscription ACTIVE and paid a month further. An invoice is paid once: FAILED_PRECONDITION the second time. Recorded in the audit log, with the reason.",
    args: { input: t.arg({ type: RecordPaymentInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db, action } = asPlatform(ctx, input.reason);
      const outcome = await recordPayment(db, { invoiceId: String(input.invoiceId), amountMinor: BigInt(input.amount) }, action);
      switch (outcome.kind) {
        case 'paid':
          return { invoice: outcome.invoice, subscriptionStatus: outcome.subscription.status, paidThrough: outcome.subscription.paidThrough };
        case 'not-found':
          throw notFound('Invoice');
        case 'already-paid':
          throw failedPrecondition(`The invoice for ${periodOf(outcome.invoice.period).label} is already paid (${outcome.invoice.paidAt?.toISOString()})`);
        case 'void':
          throw failedPrecondition(`The invoice for ${periodOf(outcome.invoice.period).label} is void: there is nothing to pay`);
        case 'amount-mismatch':
          throw badUserInput([{ field: 'input.amount', message: expectedAmount(outcome.invoice) }]);
      }
    },
  }),
);
