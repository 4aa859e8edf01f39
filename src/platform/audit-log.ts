import type { SystemDatabase } from '../db/system';
import type { Prisma } from '../generated/prisma/client';
import { organizationsById, recordAudit, type KeysetPage, type OrganizationSummary, type PlatformAction, type PlatformUser } from './organizations';

/**
 * Reading platform_audit_log, for platform operators. Tenants never read it: the
 * runtime role has no grant on the table (see the second migration).
 */

export interface AuditLogCursor {
  createdAt: Date;
  id: string;
}

export interface AuditLogEntry {
  id: string;
  /** Null when the user has since been deleted (the log keeps no foreign keys: it outlives what it names). */
  actor: PlatformUser | null;
  actorUserId: string;
  action: string;
  organization: OrganizationSummary | null;
  subjectOrganizationId: string | null;
  reason: string;
  details: unknown;
  createdAt: Date;
}

/** Strictly after `cursor` in newest-first order (`older`), or strictly before it. */
function beyond(cursor: AuditLogCursor, older: boolean): Prisma.PlatformAuditLogWhereInput {
  const direction = older ? 'lt' : 'gt';
  return { OR: [{ createdAt: { [direction]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [direction]: cursor.id } }] };
}

/**
 * Newest first, keyed by (created_at, id); of one organization when given.
 * PERF: with an organization, the (subject_organization_id, created_at DESC)
 * index serves the page; without one it is a sort of the whole log.
 */
export async function listAuditLog(
  system: SystemDatabase,
  page: KeysetPage<AuditLogCursor> & { organizationId?: string | null },
  audit: PlatformAction,
): Promise<AuditLogEntry[]> {
  // Reading the log is not an action on the organization: recorded without a
  // subject, so an organization's history holds only what was done to it.
  await recordAudit(system, { ...audit, action: 'audit.list', details: { organizationId: page.organizationId ?? null, ...audit.details } });
  const rows = await system.prisma.platformAuditLog.findMany({
    where: {
      AND: [
        page.organizationId ? { subjectOrganizationId: page.organizationId } : {},
        page.after ? beyond(page.after, true) : {},
        page.before ? beyond(page.before, false) : {},
      ],
    },
    orderBy: page.inverted ? [{ createdAt: 'asc' }, { id: 'asc' }] : [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.limit,
  });
  const organizationIds = [...new Set(rows.flatMap((row) => (row.subjectOrganizationId ? [row.subjectOrganizationId] : [])))];
  const [organizations, actors] = await Promise.all([
    organizationsById(system, organizationIds),
    system.prisma.user.findMany({ where: { id: { in: [...new Set(rows.map((row) => row.actorUserId))] } }, select: { id: true, email: true, name: true } }),
  ]);
  const actorsById = new Map(actors.map((actor) => [actor.id, actor]));
  return rows.map((row) => ({
    id: row.id,
    actor: actorsById.get(row.actorUserId) ?? null,
    actorUserId: row.actorUserId,
    action: row.action,
    organization: row.subjectOrganizationId ? (organizations.get(row.subjectOrganizationId) ?? null) : null,
    subjectOrganizationId: row.subjectOrganizationId,
    reason: row.reason,
    details: row.details,
    createdAt: row.createdAt,
  }));
}
