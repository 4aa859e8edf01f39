import type pg from 'pg';
import type { Prisma } from '../generated/prisma/client';

/**
 * Support sessions in the organization's own audit log (its owners and admins
 * read it): `support.started` when a platform operator opens one (with the
 * operator, the reason given and the session's id, the token's jti; everything
 * done in the session is then audited under actor `support`), and
 * `support.ended` when its token has expired. Both are events too, so the
 * organization's channels can say so. The platform's own record is
 * platform_audit_log (`support.start`, `support.mutation`).
 */
export interface SupportSessionStart {
  organizationId: string;
  operatorId: string;
  sessionId: string | null;
  reason: string;
  expiresAt: Date;
}

/** Written with the platform's record, in its transaction (src/platform/organizations.ts startSupportSession). */
export async function recordSupportSessionStarted(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, start: SupportSessionStart): Promise<void> {
  const details = JSON.stringify({ sessionId: start.sessionId, reason: start.reason, expiresAt: start.expiresAt.toISOString() });
  await tx.$executeRaw`
    WITH event AS (
      INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload)
      VALUES (${start.organizationId}::uuid, 'support.started', 'support_session', ${start.sessionId}, 'operator', ${start.operatorId}::uuid, ${details}::jsonb)
      RETURNING id
    )
    INSERT INTO audit_log (organization_id, actor_type, actor_id, action, target_type, target_id, details)
    SELECT ${start.organizationId}::uuid, 'operator', ${start.operatorId}::uuid, 'support.started', 'support_session', ${start.sessionId}, ${details}::jsonb
      FROM event`;
  await tx.$executeRaw`SELECT pg_notify('tenantgate_events', '')`;
}

/**
 * Records `support.ended` for every session of the last day whose token has
 * expired and that has no such entry yet; returns how many. Run by the event
 * worker every minute (owner role). An advisory lock keeps two workers from
 * recording one end twice.
 */
export async function recordEndedSupportSessions(client: pg.ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('tenantgate:support-ended')) AS locked`);
    if (!rows[0].locked) {
      await client.query('ROLLBACK');
      return 0;
    }
    // Every data-modifying CTE runs, referenced or not: the events are written with the entries.
    const { rows: ended } = await client.query<{ n: number }>(
      `WITH ended AS (
         SELECT p.subject_organization_id AS organization_id, p.actor_user_id, p.details->>'sessionId' AS session_id,
                (p.details->>'expiresAt')::timestamptz AS expires_at
           FROM platform_audit_log p JOIN organizations o ON o.id = p.subject_organization_id
          WHERE p.action = 'support.start' AND p.created_at > now() - interval '1 day'
            AND p.details->>'sessionId' IS NOT NULL AND (p.details->>'expiresAt')::timestamptz <= now()
            AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.organization_id = p.subject_organization_id
                               AND a.action = 'support.ended' AND a.target_id = p.details->>'sessionId')
       ), events AS (
         INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload)
         SELECT organization_id, 'support.ended', 'support_session', session_id, 'operator', actor_user_id,
                jsonb_build_object('sessionId', session_id, 'endedAt', expires_at, 'how', 'expired')
           FROM ended
         RETURNING 1
       ), audited AS (
         INSERT INTO audit_log (organization_id, created_at, actor_type, actor_id, action, target_type, target_id, details)
         SELECT organization_id, clock_timestamp(), 'operator', actor_user_id, 'support.ended', 'support_session', session_id,
                jsonb_build_object('sessionId', session_id, 'endedAt', expires_at, 'how', 'expired')
           FROM ended
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM audited`,
    );
    if (ended[0].n > 0) await client.query(`SELECT pg_notify('tenantgate_events', '')`);
    await client.query('COMMIT');
    return ended[0].n;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
