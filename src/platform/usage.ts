import type { SystemDatabase } from '../db/system';
import { notFound } from '../errors';
import { utcDay } from '../usage/days';
import type { DayRange } from '../usage/period';
import { readUsage, type UsageReport } from '../usage/report';
import { recordAudit, type PlatformAction } from './organizations';

/**
 * Any organization's usage, for platform operators: the same report as the
 * tenant's `usage` field, read on the system client, recorded in the audit log
 * as 'usage.read' with the reason. Recorded after the read and before it is
 * handed out, so a missing organization leaves no entry and no report leaves unexplained.
 */
export async function organizationUsage(
  system: SystemDatabase,
  { organizationId, period }: { organizationId: string; period: DayRange },
  audit: PlatformAction,
): Promise<UsageReport> {
  const report = await readUsage(system.prisma, organizationId, period);
  if (!report) throw notFound('Organization');
  await recordAudit(system, {
    ...audit,
    action: 'usage.read',
    subjectOrganizationId: organizationId,
    details: { from: utcDay(period.from.getTime()), to: utcDay(period.to.getTime()), ...audit.details },
  });
  return report;
}
