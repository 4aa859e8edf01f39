/**
 * The domain events and their payloads. The triggers of migration
 * 20261204160100_events write them; the payloads are minimal and never carry a
 * secret. A tenant model that opts in (`app.emit_events(...)`) adds
 * `<model>.created|updated|deleted`.
 */
export interface EventPayloads {
  'project.created': { id: string; name: string; status: string; owner_id: string; restricted_to_department_id: string | null };
  'project.updated': { id: string; name: string; status: string; owner_id: string; changed: string[] };
  'project.deleted': { id: string };
  'member.added': { userId: string; role: string };
  'member.removed': { userId: string; role: string };
  'member.role_changed': { userId: string; from: string; to: string };
  'member.department_changed': { userId: string; departmentId: string | null };
  'ownership.transferred': { newOwnerId: string };
  'organization.settings_changed': { sections?: string[]; secret?: string; action?: 'set' | 'cleared' };
  'organization.renamed': { from: string; to: string };
  'subscription.changed': { plan: string; status: string; seats: number; addOns: string[]; previous?: Record<string, unknown> };
  'invoice.issued': { id: string; period: string; currency: string; totalMinor: string; status: string };
  'invoice.paid': { id: string; period: string; currency: string; totalMinor: string; status: string };
  'quota.override_changed': { resource: string; limit: string | null; removed: boolean };
  'domain.added': { domain: string };
  'domain.removed': { domain: string };
  'domain.verified': { domain: string };
  'domain.unverified': { domain: string };
  'webhook_endpoint.created': { id: string; url: string; events: string[]; enabled: boolean };
  'webhook_endpoint.updated': { id: string; url: string; events: string[]; enabled: boolean };
  'webhook_endpoint.deleted': { id: string; url: string; events: string[]; enabled: boolean };
  'webhook_endpoint.secret_rotated': { id: string; url: string; events: string[]; enabled: boolean };
  'webhook_endpoint.enabled': { id: string; url: string; events: string[]; enabled: boolean };
  'webhook_endpoint.disabled': { id: string; url: string; events: string[]; enabled: boolean; reason: string | null };
  'department.created': { id: string; name: string };
  'department.updated': { id: string; name: string; changed: string[] };
  'department.deleted': { id: string };
  'invitation.created': { invitationId: string; email: string; role: string };
  'invitation.accepted': { invitationId: string; userId: string; role: string };
  'invitation.declined': { invitationId: string; email: string; role: string };
  'invitation.revoked': { invitationId: string; email: string; role: string };
  'invitation.resent': { invitationId: string; email: string; role: string; previousRole: string };
  'support.started': { sessionId: string | null; reason: string; expiresAt: string };
  'support.ended': { sessionId: string; endedAt: string; how: 'expired' };
  'member.joined': { userId: string; role: string; via: string };
  'quota.exceeded': { resource: string; limit: number; used: number };
  /**
   * A denial (src/audit/access-denials.ts), raised at most once per actor and
   * reason per 10 minutes; `count`: the denials of the previous window that
   * raised none. `outsider`: sent to the organization that was the target of a
   * cross-organization attempt (the actor is then `system`: never who).
   */
  'security.access_denied': { reason: string; operation?: string; severity: 'low' | 'medium' | 'high'; count?: number; outsider?: true };
  'audit.exported': { since: string; entries: number };
}

export type EventType = keyof EventPayloads;

export type ActorType = 'user' | 'operator' | 'support' | 'system';

/** An event as the worker hands it out (webhook bodies carry the same fields). */
export interface DomainEvent<T extends string = string> {
  /** The idempotency key: the same on every delivery and redelivery. */
  id: string;
  type: T;
  organizationId: string;
  subject: { type: string | null; id: string | null };
  actor: { type: ActorType; id: string | null };
  payload: T extends EventType ? EventPayloads[T] : Record<string, unknown>;
  occurredAt: string;
}

/** Every event type the platform emits (a tenant model that opts in adds its own `<model>.*`). */
export const EVENT_TYPES = [
  'project.created', 'project.updated', 'project.deleted',
  'department.created', 'department.updated', 'department.deleted',
  'member.added', 'member.removed', 'member.role_changed', 'member.department_changed', 'member.joined',
  'ownership.transferred', 'organization.settings_changed', 'organization.renamed',
  'subscription.changed', 'invoice.issued', 'invoice.paid',
  'quota.override_changed', 'quota.exceeded',
  'domain.added', 'domain.removed', 'domain.verified', 'domain.unverified',
  'invitation.created', 'invitation.accepted', 'invitation.declined', 'invitation.revoked', 'invitation.resent',
  'support.started', 'support.ended',
  'webhook_endpoint.created', 'webhook_endpoint.updated', 'webhook_endpoint.deleted', 'webhook_endpoint.secret_rotated',
  'webhook_endpoint.enabled', 'webhook_endpoint.disabled',
  'security.access_denied', 'audit.exported',
] as const satisfies readonly EventType[];
// The list names every type of EventPayloads: a type added there and not here fails to compile.
type Unlisted = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyTypeListed;

/** What Slack and Datadog receive unless the organization chooses (`integrations.slack.events`): what a person wants to see in a channel. */
export const NOTABLE_EVENTS: readonly string[] = [
  'member.added',
  'member.removed',
  'member.role_changed',
  'ownership.transferred',
  'organization.settings_changed',
  'subscription.changed',
  'invoice.issued',
  'invoice.paid',
  'domain.verified',
  'domain.unverified',
  'webhook_endpoint.disabled',
  'quota.exceeded',
  'support.started',
  'support.ended',
  'security.access_denied',
];
