import type pg from 'pg';
import { auditLogQuery, type AuditCursor } from './log';

/**
 * Writes an organization's audit log as JSON lines, oldest first, from `since`
 * on, a page at a time (memory stays flat whatever its size). The export is
 * itself an audited action (audit.exported). Through the owner role: this is
 * the platform's tool, not a tenant's.
 */
export async function exportAuditLog(
  pool: pg.Pool,
  options: { slug: string; since: Date; until?: Date; write: (line: string) => void | Promise<void> },
): Promise<{ organizationId: string; entries: number }> {
  const org = await pool.query<{ id: string }>('SELECT id FROM organizations WHERE slug = $1', [options.slug]);
  if (!org.rows[0]) throw new Error(`no organization with the slug ${JSON.stringify(options.slug)}`);
  const organizationId = org.rows[0].id;
  let entries = 0;
  let before: AuditCursor | undefined;
  for (;;) {
    // `before` with `ascending`: the next page after the last entry written, oldest first.
    const { text, values } = auditLogQuery(organizationId, { since: options.since, until: options.until }, { limit: 1000, before, ascending: true });
    const { rows } = await pool.query(text, values);
    for (const row of rows) await options.write(`${JSON.stringify(row)}\n`);
    entries += rows.length;
    if (rows.length < 1000) break;
    const last = rows[rows.length - 1];
    before = { createdAt: last.createdAt, id: last.id };
  }
  await pool.query(`SELECT app.record_event($1::uuid, 'audit.exported', 'organization', $1::text, $2::jsonb, true)`, [
    organizationId,
    JSON.stringify({ since: options.since.toISOString(), entries }),
  ]);
  return { organizationId, entries };
}
