import type { Prisma } from '../generated/prisma/client';

/**
 * Events of an organization, stored in `events` (organization_id, type, actor,
 * subject, payload, created_at) for the webhooks that deliver them later. Written
 * in the transaction of the change they describe, so an event exists exactly
 * when its change committed. organization_id defaults to the transaction's
 * organization (RLS checks it), so the scoped client is all this needs.
 */
export type EventType = 'domain.verified' | 'domain.unverified' | 'invitation.created' | 'invitation.accepted' | 'member.joined';

export interface NewEvent {
  type: EventType;
  /** The user who caused it; null for the platform's jobs. */
  actor: string | null;
  /** What it is about: a domain, an invitation id, a user id. */
  subject: string;
  payload: Record<string, unknown>;
}

export async function recordEvent(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, event: NewEvent): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO events (type, actor, subject, payload)
    VALUES (${event.type}, ${event.actor}::uuid, ${event.subject}, ${JSON.stringify(event.payload)}::jsonb)`;
}

/** The same on the system client (platform jobs), which bypasses RLS: the organization is named. */
export async function recordPlatformEvent(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, organizationId: string, event: NewEvent): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO events (organization_id, type, actor, subject, payload)
    VALUES (${organizationId}::uuid, ${event.type}, ${event.actor}::uuid, ${event.subject}, ${JSON.stringify(event.payload)}::jsonb)`;
}
