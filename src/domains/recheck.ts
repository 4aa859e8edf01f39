import type { SystemDatabase } from '../db/system';
import type { Services } from './services';
import { DAY_MS } from './services';
import { checkProof, type ProofMethod } from './verification';

/**
 * The daily re-check (`npm run domains:recheck`): every domain verified by DNS
 * or HTTP is checked again. A proof that is there clears any earlier miss; one
 * that is missing is noted (proof_lost_at), and a domain whose proof has been
 * missing for 7 days goes back to unverified, with a domain.unverified event and
 * a mail to the organization's owners. A domain verified by email is not
 * re-checked: its proof was a mailbox's answer at one time, not something
 * published that could be looked at again.
 *
 * On the system client: it reads across organizations and writes as the platform.
 */

export const GRACE_MS = 7 * DAY_MS;
const CONCURRENCY = 8;

interface VerifiedRow {
  organization_id: string;
  organization_name: string;
  domain: string;
  verification_token: string;
  verified_method: ProofMethod;
  proof_lost_at: Date | null;
}

export interface RecheckResult {
  checked: number;
  lost: string[];
  unverified: string[];
}

export async function recheckDomains(
  system: SystemDatabase,
  services: Pick<Services, 'network' | 'mailer' | 'now'>,
  options: { domains?: string[] } = {},
): Promise<RecheckResult> {
  const now = services.now();
  const rows = await system.prisma.$queryRaw<VerifiedRow[]>`
    SELECT d.organization_id, o.name AS organization_name, d.domain, d.verification_token, d.verified_method, d.proof_lost_at
      FROM organization_domains d JOIN organizations o ON o.id = d.organization_id
     WHERE d.verified AND d.verified_method IN ('DNS', 'HTTP')
       AND (${options.domains ?? null}::text[] IS NULL OR d.domain = ANY (${options.domains ?? null}::text[]))
     ORDER BY d.last_checked_at NULLS FIRST`;
  const result: RecheckResult = { checked: 0, lost: [], unverified: [] };
  const queue = [...rows];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      await recheckOne(system, services, row, now, result);
      result.checked++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, worker));
  return result;
}

async function recheckOne(system: SystemDatabase, services: Pick<Services, 'network' | 'mailer'>, row: VerifiedRow, now: number, result: RecheckResult): Promise<void> {
  const at = new Date(now);
  const proof = await checkProof(services.network, row.verified_method, row.domain, row.verification_token).catch(() => ({ found: false as const }));
  const where = { organizationId_domain: { organizationId: row.organization_id, domain: row.domain } };
  if (proof.found) {
    await system.prisma.organizationDomain.update({ where, data: { lastCheckedAt: at, proofLostAt: null } });
    return;
  }
  const lostAt = row.proof_lost_at ?? at;
  if (now - lostAt.getTime() < GRACE_MS) {
    if (!row.proof_lost_at) await system.prisma.organizationDomain.update({ where, data: { proofLostAt: at } });
    result.lost.push(row.domain);
    return;
  }
  const owners = await system.prisma.$transaction(async (tx) => {
    const { count } = await tx.organizationDomain.updateMany({
      where: { organizationId: row.organization_id, domain: row.domain, verified: true },
      data: { verified: false, verifiedAt: null, verifiedMethod: null, proofLostAt: null },
    });
    if (count === 0) return [];
    // domain.unverified: the organization_domains trigger records it (migration 20261204160100_events).
    return tx.membership.findMany({ where: { organizationId: row.organization_id, role: 'OWNER' }, select: { user: { select: { email: true } } } });
  });
  if (owners.length === 0) return;
  result.unverified.push(row.domain);
  for (const owner of owners) {
    await services.mailer
      .send({
        to: owner.user.email,
        subject: `${row.domain} is no longer verified for ${row.organization_name}`,
        text: [
          `The ${row.verified_method === 'DNS' ? 'DNS TXT record' : 'verification file'} that proved ${row.domain} belongs to ${row.organization_name}`,
          `has been missing since ${lostAt.toISOString()}, so the domain is unverified now: sign-ups with its email no longer join your organization.`,
          'Publish the proof again and verify the domain (verifyDomain) to restore it.',
        ].join('\n'),
      })
      .catch((error: unknown) => console.error(`domains:recheck: could not tell ${owner.user.email}:`, error));
  }
}
