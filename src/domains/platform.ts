import type { SystemDatabase } from '../db/system';
import { notFound } from '../errors';
import { recordAudit, type PlatformAction } from '../platform/organizations';

/**
 * The platform operator's side of domains: releasing a domain that an
 * organization verified (a dispute, a domain that changed hands), so that
 * another can verify it. On the system client, with an audit row and a
 * domain.unverified event for the organization that loses it.
 */
export async function releaseDomain(system: SystemDatabase, domain: string, audit: PlatformAction): Promise<{ organizationId: string }> {
  return system.prisma.$transaction(async (tx) => {
    const [held] = await tx.$queryRaw<{ organization_id: string }[]>`
      UPDATE organization_domains
         SET verified = false, verified_at = NULL, verified_method = NULL, proof_lost_at = NULL, email_token_hash = NULL
       WHERE domain = ${domain} AND verified
       RETURNING organization_id`;
    if (!held) throw notFound('Verified domain');
    // domain.unverified: the organization_domains trigger records it (migration 20261204160100_events).
    await recordAudit(tx, { ...audit, action: 'domain.release', subjectOrganizationId: held.organization_id, details: { ...audit.details, domain } });
    return { organizationId: held.organization_id };
  });
}
