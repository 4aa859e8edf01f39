import { z } from 'zod';
import type { Invoice } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { describeInvoiceRun, generateInvoices } from '../../billing/invoicing';
import { parsePeriod, type BillingPeriod } from '../../billing/period';
import { recordAudit } from '../../platform/organizations';
import { globalIdOf } from '../global-id';
import { asPlatform, platformOnly, reason } from '../platform/platform.type';
import { PlatformInvoice } from './platform-invoice.type';

/** `YYYY-MM`, a month that has ended, as a BillingPeriod. */
const period = z.string().transform((text, issues) => {
  try {
    return parsePeriod(text, new Date());
  } catch (error) {
    issues.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const GenerateInvoicesInput = builder.inputType('GenerateInvoicesInput', {
  fields: (t) => ({
    period: t.string({ required: true, description: 'The month, e.g. 2026-10. It must have ended.', validate: period }),
    organizationIds: t.idList({
      description: 'Only these organizations (PlatformOrganization IDs); every organization when left out.',
      validate: z.array(globalIdOf('PlatformOrganization')).max(1000, 'must list at most 1000 organizations'),
    }),
    reason: t.string({ required: true, validate: reason }),
  }),
});

const GenerateInvoicesPayload = payloadType<{ period: BillingPeriod; created: Invoice[]; skipped: number; summary: string }>('GenerateInvoicesPayload', {
  fields: (t) => ({
    period: t.string({ resolve: (run) => run.period.label }),
    created: t.int({ description: 'Invoices this run created.', resolve: (run) => run.created.length }),
    skipped: t.int({ description: 'Organizations that already had an invoice for the period: nothing new for them.', resolve: (run) => run.skipped }),
    summary: t.exposeString('summary', { description: 'e.g. "2026-10: created 2, skipped 2 already invoiced"' }),
    invoices: t.field({ type: [PlatformInvoice], description: 'The invoices created.', resolve: (run) => run.created }),
  }),
});

builder.mutationField('generateInvoices', (t) =>
  t.field({
    ...platformOnly,
    type: GenerateInvoicesPayload,
    description:
      'Invoices a month: one invoice per organization, from its subscription and its usage. Idempotent: an organization invoiced for the month before is skipped. Recorded in the audit log, with the reason.',
    args: { input: t.arg({ type: GenerateInvoicesInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db: system, action: audit } = asPlatform(ctx, input.reason);
      // Validated and turned into a BillingPeriod / row ids by the validation plugin.
      const billed = input.period as unknown as BillingPeriod;
      const organizationIds = (input.organizationIds as string[] | null | undefined) ?? undefined;
      // Recorded first: whatever the run creates, even if it fails halfway, is explained.
      await recordAudit(system, { ...audit, action: 'invoice.generate', details: { period: billed.label, organizationIds: organizationIds ?? null, ...audit.details } });
      const run = await generateInvoices(system, { period: billed, organizationIds });
      return { ...run, summary: describeInvoiceRun(run) };
    },
  }),
);
