import type { TenantClient } from '../db/tenant';
import { failedPrecondition } from '../errors';
import { emailDomain } from '../domains/rules';

/**
 * addMember adds someone at once, without their consent: allowed only where the
 * organization already has authority over the address, that is for an email of
 * one of its verified domains (as an identity provider's directory would), and
 * for a platform operator in a support session. Everyone else is invited
 * (inviteMember). The check reads the organization's own domains only, so the
 * refusal says nothing about the address or any account it may have.
 */
export async function assertAddMemberAllowed(db: TenantClient, viewer: { support: boolean }, email: string): Promise<void> {
  if (viewer.support) return;
  const domain = emailDomain(email);
  const verified = await db.organizationDomain.findFirst({ where: { domain, verified: true }, select: { domain: true } });
  if (!verified) {
    throw failedPrecondition(`addMember adds people with an email of the organization's verified domains only; invite ${email} with inviteMember`, { field: 'input.email' });
  }
}
