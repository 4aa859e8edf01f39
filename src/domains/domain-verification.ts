import type { TenantClient } from '../db/tenant';
import type { OrganizationDomain } from '../generated/prisma/client';
import { refusalOf } from '../db/database-errors';
import { failedPrecondition, notFound } from '../errors';
import { conflict, rateLimited, verificationFailed } from './errors';
import { newSecretToken, VERIFICATION_MAILBOXES, type VerificationMailbox } from './rules';
import type { Services } from './services';
import { checkProof, type ProofMethod } from './verification';
import { randomBytes } from 'node:crypto';

/**
 * Verifying a domain, on the organization's tenant client. The network is
 * reached outside any transaction (a slow DNS server must not hold a
 * connection), and the write that marks the domain verified is one statement
 * guarded by the unique index organization_domains_verified_once: the first
 * organization to verify a domain wins, whatever the timing.
 */

const key = (organizationId: string, domain: string) => ({ organizationId_domain: { organizationId, domain } });

/** A claim's token and its expiry, fresh: addDomain and regenerateDomainToken. */
export async function startVerification(db: TenantClient, organizationId: string, domain: string, services: Services): Promise<OrganizationDomain> {
  return db.organizationDomain.update({
    where: key(organizationId, domain),
    data: { verificationToken: randomBytes(24).toString('hex'), tokenExpiresAt: new Date(services.now() + services.tokenTtlMs), emailTokenHash: null },
  });
}

async function load(db: TenantClient, organizationId: string, domain: string): Promise<OrganizationDomain> {
  return (await db.organizationDomain.findUnique({ where: key(organizationId, domain) })) ?? Promise.reject(notFound('Domain'));
}

/** The organization holding `domain` verified, if it is another one: CONFLICT naming the domain. */
async function refuseIfHeldElsewhere(db: TenantClient, organizationId: string, domain: string): Promise<void> {
  const [owner] = await db.$queryRaw<{ organization_id: string }[]>`SELECT organization_id FROM app.verified_domain_owner(${domain})`;
  if (owner && owner.organization_id !== organizationId) throw heldElsewhere(domain);
}

const heldElsewhere = (domain: string) =>
  conflict(`The domain ${domain} is already verified by another organization. If it is yours, ask the platform operator to release it.`, { domain });

/**
 * Counts an attempt (one statement, so concurrent attempts all count) and
 * refuses past the limit: each attempt costs DNS queries or HTTP requests to a
 * third party, on our behalf.
 */
async function countAttempt(db: TenantClient, domain: string, services: Services): Promise<void> {
  const now = new Date(services.now());
  const windowStart = new Date(services.now() - services.attempts.windowMs);
  const [row] = await db.$queryRaw<{ attempts: number; attempts_window_start: Date }[]>`
    UPDATE organization_domains
       SET attempts = CASE WHEN attempts_window_start IS NULL OR attempts_window_start <= ${windowStart} THEN 1 ELSE attempts + 1 END,
           attempts_window_start = CASE WHEN attempts_window_start IS NULL OR attempts_window_start <= ${windowStart} THEN ${now} ELSE attempts_window_start END
     WHERE domain = ${domain}
     RETURNING attempts, attempts_window_start`;
  if (row && row.attempts > services.attempts.max) {
    const retryAfter = Math.ceil((row.attempts_window_start.getTime() + services.attempts.windowMs - services.now()) / 1000);
    throw rateLimited(`Too many verification attempts for ${domain}: at most ${services.attempts.max} per ${services.attempts.windowMs / 60_000} minutes`, retryAfter);
  }
}

function usableToken(row: OrganizationDomain, services: Services): void {
  if (row.tokenExpiresAt.getTime() <= services.now()) {
    throw verificationFailed(`The verification token of ${row.domain} has expired: regenerate it (regenerateDomainToken) and publish the new one`, 'TOKEN_EXPIRED');
  }
}

export async function verifyDomain(
  db: TenantClient,
  viewer: { organizationId: string; userId: string },
  domain: string,
  method: ProofMethod,
  services: Services,
): Promise<OrganizationDomain> {
  const row = await load(db, viewer.organizationId, domain);
  if (row.verified) return row;
  await refuseIfHeldElsewhere(db, viewer.organizationId, domain);
  await countAttempt(db, domain, services);
  usableToken(row, services);
  const proof = await checkProof(services.network, method, domain, row.verificationToken);
  if (!proof.found) throw verificationFailed(proof.message, proof.reason);
  return markVerified(db, viewer, row, method, services);
}

async function markVerified(
  db: TenantClient,
  viewer: { organizationId: string; userId: string },
  row: OrganizationDomain,
  method: ProofMethod,
  services: Services,
): Promise<OrganizationDomain> {
  const now = new Date(services.now());
  try {
    return await db.$transaction(async (tx) => {
      const updated = await tx.organizationDomain.update({
        where: key(viewer.organizationId, row.domain),
        data: { verified: true, verifiedAt: now, verifiedMethod: method, lastCheckedAt: now, proofLostAt: null, emailTokenHash: null },
      });
      return updated;
    });
  } catch (error) {
    // Another organization verified it between our check and this write.
    if (refusalOf(error) === 'domainVerifiedElsewhere') throw heldElsewhere(row.domain);
    throw error;
  }
}

export async function regenerateToken(db: TenantClient, organizationId: string, domain: string, services: Services): Promise<OrganizationDomain> {
  const row = await load(db, organizationId, domain);
  // The re-check compares the published proof with this token: a new one would unverify the domain.
  if (row.verified) throw failedPrecondition(`${domain} is verified: its token stays what its DNS record or file holds`);
  return startVerification(db, organizationId, domain, services);
}

/** Mails a verification link to one of the domain's administrative mailboxes. */
export async function sendVerificationEmail(
  db: TenantClient,
  organization: { id: string; name: string },
  domain: string,
  mailbox: VerificationMailbox,
  services: Services,
): Promise<{ domain: OrganizationDomain; sentTo: string; file?: string }> {
  if (!VERIFICATION_MAILBOXES.includes(mailbox)) throw failedPrecondition(`Not a verification mailbox: ${mailbox}`);
  const row = await load(db, organization.id, domain);
  if (row.verified) throw failedPrecondition(`${domain} is already verified`);
  await refuseIfHeldElsewhere(db, organization.id, domain);
  await countAttempt(db, domain, services);
  const { token, hash } = newSecretToken();
  const sentTo = `${mailbox}@${domain}`;
  const expiresAt = new Date(services.now() + services.tokenTtlMs);
  const updated = await db.organizationDomain.update({
    where: key(organization.id, domain),
    data: { emailTokenHash: hash, emailSentTo: sentTo, tokenExpiresAt: expiresAt },
  });
  const link = `${services.publicUrl}/domains/verify-email?token=${encodeURIComponent(token)}`;
  const { file } = await services.mailer.send({
    to: sentTo,
    subject: `Confirm that ${organization.name} may use ${domain}`,
    text: [
      `Someone in the organization "${organization.name}" asked to verify that ${domain} belongs to it.`,
      `If you manage ${domain} and agree, open this link (valid until ${expiresAt.toISOString()}):`,
      '',
      link,
      '',
      'If you did not expect this, ignore this message: nothing changes.',
    ].join('\n'),
  });
  return { domain: updated, sentTo, file };
}
