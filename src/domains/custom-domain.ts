import type { TenantClient } from '../db/tenant';
import { badUserInput } from '../errors';
import { isUnder } from './rules';

/** The branding's custom domain must be a verified domain of the organization, or under one. */
export async function assertCustomDomainAllowed(db: TenantClient, host: string): Promise<void> {
  const verified = await db.organizationDomain.findMany({ where: { verified: true }, select: { domain: true } });
  if (!verified.some(({ domain }) => isUnder(host, domain))) {
    throw badUserInput([{ field: 'input.settings.branding.customDomain', message: 'must be a verified domain of the organization, or under one (verify it first)' }]);
  }
}
