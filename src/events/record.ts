import type { TenantClient } from '../db/tenant';

/**
 * Events that no table's trigger can know about (an invitation's life, the way
 * a member joined), written to the outbox in the transaction of the change
 * through app.record_event() (migration 20261204160100_events), which fills in
 * the actor from the transaction's settings and writes the audit entry.
 * Changes of rows (domains verified or unverified, members added) are recorded
 * by the tables' triggers; see src/events/catalog.ts.
 */
export type RecordedEventType = 'invitation.created' | 'invitation.accepted' | 'invitation.declined' | 'invitation.revoked' | 'member.joined';

export interface NewEvent {
  type: RecordedEventType;
  /** What it is about: `invitation` or `user`, and its id. */
  subjectType: 'invitation' | 'user';
  subjectId: string;
  payload: Record<string, unknown>;
}

export async function recordEvent(tx: Pick<TenantClient, '$executeRaw'>, organizationId: string, event: NewEvent): Promise<void> {
  await tx.$executeRaw`
    SELECT app.record_event(${organizationId}::uuid, ${event.type}, ${event.subjectType}, ${event.subjectId}, ${JSON.stringify(event.payload)}::jsonb, true)`;
}
