import { builder } from '../../builder';
import { payloadType } from '../payload';
import { regenerateToken, sendVerificationEmail, verifyDomain } from '../../domains/domain-verification';
import type { VerificationMailbox } from '../../domains/rules';
import { hostname, OrganizationDomain } from './organization-domain.type';
import { VerificationMailboxEnum } from './domain-verification.type';

/** verifyDomain (DNS or HTTP), sendDomainVerificationEmail (EMAIL), regenerateDomainToken. Owners and admins. */

const ProofMethodEnum = builder.enumType('DomainProofMethod', { values: ['DNS', 'HTTP'] as const });


const VerifyDomainInput = builder.inputType('VerifyDomainInput', {
  fields: (t) => ({
    domain: t.string({ required: true, validate: hostname }),
    method: t.field({ type: ProofMethodEnum, required: true }),
  }),
});

const DomainResult = payloadType<{ domain: object }>('VerifyDomainPayload', {
  fields: (t) => ({ domain: t.field({ type: OrganizationDomain, resolve: (p) => p.domain as never }) }),
});

builder.mutationField('verifyDomain', (t) =>
  t.field({
    type: DomainResult,
    description:
      'Looks for the proof now: the TXT record (DNS) or the file (HTTP). VERIFICATION_FAILED with a reason when it is not there ' +
      '(RECORD_NOT_FOUND, WRONG_TOKEN, TOKEN_EXPIRED, REFUSED_ADDRESS, ...); CONFLICT when another organization verified the domain first; RATE_LIMITED.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: VerifyDomainInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      domain: await verifyDomain(ctx.tenantDb(), ctx.viewer!, input.domain, input.method, ctx.services),
    }),
  }),
);

const DomainInput = builder.inputType('DomainInput', {
  fields: (t) => ({ domain: t.string({ required: true, validate: hostname }) }),
});

builder.mutationField('regenerateDomainToken', (t) =>
  t.field({
    type: DomainResult,
    description: 'A new token, valid for 7 days; the old one stops counting. Unverified domains only.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: DomainInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      domain: await regenerateToken(ctx.tenantDb(), ctx.viewer!.organizationId, input.domain, ctx.services),
    }),
  }),
);

const SendEmailInput = builder.inputType('SendDomainVerificationEmailInput', {
  fields: (t) => ({
    domain: t.string({ required: true, validate: hostname }),
    mailbox: t.field({ type: VerificationMailboxEnum, required: true, description: 'The link goes to <mailbox>@<domain>.' }),
  }),
});

const SendEmailPayload = payloadType<{ domain: object; sentTo: string }>('SendDomainVerificationEmailPayload', {
  fields: (t) => ({
    domain: t.field({ type: OrganizationDomain, resolve: (p) => p.domain as never }),
    sentTo: t.exposeString('sentTo'),
  }),
});

builder.mutationField('sendDomainVerificationEmail', (t) =>
  t.field({
    type: SendEmailPayload,
    description: 'Mails a link to an administrative mailbox of the domain; opening it verifies the domain. A new link replaces the previous one.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: SendEmailInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const organization = ctx.organization!;
      const mailbox = (input.mailbox as string).toLowerCase() as VerificationMailbox;
      const { domain, sentTo } = await sendVerificationEmail(ctx.tenantDb(), organization, input.domain, mailbox, ctx.services);
      return { domain, sentTo };
    },
  }),
);
