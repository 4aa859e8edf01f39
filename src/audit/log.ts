/**
 * Reading an organization's audit log (audit_log, migration 20261204160100_events):
 * the same query for its owners and admins (tenant client, RLS), for platform
 * operators (system client) and for `npm run audit:export`.
 */
export interface AuditFilter {
  action?: string | null;
  /** A user id: entries whose actor it is. */
  actor?: string | null;
  since?: Date | null;
  until?: Date | null;
}

export interface AuditCursor {
  createdAt: Date;
  id: string;
}

export interface AuditEntryRow {
  organizationId: string;
  id: string;
  createdAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: unknown;
}

/**
 * Newest first; `after` continues below a cursor, `before` above it (read
 * oldest first, then reversed by the caller: `inverted`). The organization is
 * explicit for the system client and redundant (RLS) for the tenant one.
 * PERF: (organization_id, created_at DESC, id DESC) is the index.
 */
export function auditLogQuery(
  organizationId: string,
  filter: AuditFilter,
  page: { limit: number; after?: AuditCursor; before?: AuditCursor; inverted?: boolean; ascending?: boolean },
): { text: string; values: unknown[] } {
  const values: unknown[] = [organizationId];
  const where = ['organization_id = $1::uuid'];
  const param = (value: unknown, cast: string) => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  if (filter.action) where.push(`action = ${param(filter.action, 'text')}`);
  if (filter.actor) where.push(`actor_id = ${param(filter.actor, 'uuid')}`);
  if (filter.since) where.push(`created_at >= ${param(filter.since, 'timestamptz')}`);
  if (filter.until) where.push(`created_at < ${param(filter.until, 'timestamptz')}`);
  if (page.after) where.push(`(created_at, id) < (${param(page.after.createdAt, 'timestamptz')}, ${param(page.after.id, 'uuid')})`);
  if (page.before) where.push(`(created_at, id) > (${param(page.before.createdAt, 'timestamptz')}, ${param(page.before.id, 'uuid')})`);
  const ascending = page.inverted || page.ascending;
  const order = ascending ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
  return {
    text: `SELECT organization_id AS "organizationId", id, created_at AS "createdAt", actor_type AS "actorType", actor_id AS "actorId", action,
                  target_type AS "targetType", target_id AS "targetId", ip, user_agent AS "userAgent", request_id AS "requestId", details
             FROM audit_log WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${param(page.limit, 'int')}`,
    values,
  };
}
