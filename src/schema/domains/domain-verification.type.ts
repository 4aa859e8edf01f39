import type { OrganizationDomain as DomainRow } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { dnsRecordName, HTTP_PROOF_PATH, VERIFICATION_MAILBOXES } from '../../domains/rules';
import { RoleEnum } from '../viewer/viewer.query';

/** How an organization proves a domain is its own: the fields addDomain's caller reads to publish the proof. */

export const VerificationMethodEnum = builder.enumType('DomainVerificationMethod', {
  values: ['DNS', 'HTTP', 'EMAIL'] as const,
});

export const VerificationMailboxEnum = builder.enumType('DomainVerificationMailbox', {
  description: 'The administrative mailboxes of a domain that a verification link may be sent to.',
  values: VERIFICATION_MAILBOXES.map((m) => m.toUpperCase()) as unknown as readonly ['ADMIN'],
});

const DnsRecord = builder.objectRef<{ name: string; value: string }>('DnsRecord').implement({
  fields: (t) => ({
    type: t.string({ resolve: () => 'TXT' }),
    name: t.exposeString('name'),
    value: t.exposeString('value'),
  }),
});

const DomainVerification = builder.objectRef<DomainRow & { now: number; publicUrl: string }>('DomainVerification').implement({
  description: 'The proof to publish, and where things stand. Owners and admins only.',
  fields: (t) => ({
    token: t.exposeString('verificationToken'),
    expiresAt: t.expose('tokenExpiresAt', { type: 'DateTime' }),
    expired: t.boolean({ resolve: (row) => row.tokenExpiresAt.getTime() <= row.now }),
    method: t.field({ type: VerificationMethodEnum, nullable: true, description: 'How it was verified.', resolve: (row) => row.verifiedMethod as 'DNS' | null }),
    dnsRecord: t.field({ type: DnsRecord, resolve: (row) => ({ name: dnsRecordName(row.domain), value: row.verificationToken }) }),
    httpUrl: t.string({ description: 'Serve the token (and nothing else) here; HTTPS is tried first, then HTTP.', resolve: (row) => `http://${row.domain}${HTTP_PROOF_PATH}` }),
    emailAddresses: t.stringList({ description: 'Where sendDomainVerificationEmail may send a link.', resolve: (row) => VERIFICATION_MAILBOXES.map((m) => `${m}@${row.domain}`) }),
    emailSentTo: t.exposeString('emailSentTo', { nullable: true }),
    instructions: t.string({
      resolve: (row) =>
        `Create a DNS TXT record ${dnsRecordName(row.domain)} with the value ${row.verificationToken}, ` +
        `or serve that value at http(s)://${row.domain}${HTTP_PROOF_PATH}, then call verifyDomain; ` +
        `or have a link sent to one of ${VERIFICATION_MAILBOXES.map((m) => `${m}@${row.domain}`).join(', ')} (sendDomainVerificationEmail). ` +
        `The token expires at ${row.tokenExpiresAt.toISOString()}.`,
    }),
    lastCheckedAt: t.expose('lastCheckedAt', { type: 'DateTime', nullable: true, description: 'The last time the daily re-check found the proof.' }),
    proofLostAt: t.expose('proofLostAt', { type: 'DateTime', nullable: true, description: 'When the re-check first missed the proof; 7 days later the domain is unverified.' }),
  }),
});

builder.prismaObjectFields('OrganizationDomain', (t) => ({
  verification: t.field({
    type: DomainVerification,
    nullable: true,
    description: 'Null for members: the token is for those who publish it.',
    resolve: (row, _args, ctx) =>
      ctx.viewer && (ctx.viewer.role === 'OWNER' || ctx.viewer.role === 'ADMIN') ? { ...row, now: ctx.services.now(), publicUrl: ctx.services.publicUrl } : null,
  }),
  joining: t.exposeBoolean('joining', { description: 'Whether people signing up with an email of this (verified) domain join the organization.' }),
  joinRole: t.expose('joinRole', { type: RoleEnum, description: 'The role they join with.' }),
}));
