import type { SystemDatabase } from '../db/system';
import { scopeStatement } from '../db/tenant';
import type { QuotaResource } from '../generated/prisma/enums';
import { notFound } from '../errors';
import { readQuotas, type Quota, type QuotaLimits } from '../quotas/limits';
import { recordAudit, type PlatformAction } from './organizations';

/**
 * Per-organization overrides of a plan's limits (quota_overrides), set by
 * platform operators: a bigger customer on PRO, a limit lowered for abuse. A
 * limit below current use blocks new creates and deletes nothing.
 */

const bigintOrNull = (value: number | null) => (value === null ? null : BigInt(value));

/**
 * Sets the override of one resource (`override.limit` null: unlimited) or, with
 * `override` null, removes it so that the plan's limit applies again. Recorded as
 * 'quota.set' or 'quota.clear', with the previous override, in the same
 * transaction. Returns the quota as it now stands.
 */
export async function setQuotaOverride(
  system: SystemDatabase,
  { organizationId, resource, override }: { organizationId: string; resource: QuotaResource } & Pick<QuotaLimits, 'override'>,
  audit: PlatformAction,
): Promise<Quota> {
  return system.prisma.$transaction(async (tx) => {
    if (!(await tx.organization.findUnique({ where: { id: organizationId }, select: { id: true } }))) throw notFound('Organization');
    const key = { organizationId_resource: { organizationId, resource } };
    const previous = await tx.quotaOverride.findUnique({ where: key, select: { limit: true } });
    if (override) {
      const limit = bigintOrNull(override.limit);
      await tx.quotaOverride.upsert({ where: key, create: { organizationId, resource, limit }, update: { limit } });
    } else {
      await tx.quotaOverride.deleteMany({ where: { organizationId, resource } });
    }
    await recordAudit(tx, {
      ...audit,
      action: override ? 'quota.set' : 'quota.clear',
      subjectOrganizationId: organizationId,
      details: {
        resource,
        limit: override ? override.limit : null,
        previous: previous ? { limit: previous.limit === null ? null : Number(previous.limit) } : null,
        ...audit.details,
      },
    });
    // readQuotas reads for app.current_org_id(): name the organization for this transaction.
    await tx.$executeRawUnsafe(scopeStatement({ organizationId }));
    const [quota] = await readQuotas(tx, [resource]);
    return quota;
  });
}
