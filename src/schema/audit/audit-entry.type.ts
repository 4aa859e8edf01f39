import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AuditEntryRow } from '../../audit/log';
import { builder } from '../../builder';

export const AuditActorTypeEnum = builder.enumType('AuditActorType', {
  description: 'Who acted: a member, a platform operator, an operator in a support session, the platform itself, or someone outside the organization (a denied attempt).',
  values: ['USER', 'OPERATOR', 'SUPPORT', 'SYSTEM', 'OUTSIDER'] as const,
});

export const AuditEntry = builder.objectRef<AuditEntryRow>('AuditEntry').implement({
  description: "One entry of the organization's audit log. Append-only: nobody can change or remove it (it expires with the plan's retention).",
  fields: (t) => ({
    id: t.id({ resolve: (entry) => encodeGlobalID('AuditEntry', entry.id) }),
    action: t.exposeString('action', { description: 'The event type, e.g. member.role_changed, security.access_denied.' }),
    actorType: t.field({ type: AuditActorTypeEnum, resolve: (entry) => entry.actorType.toUpperCase() as 'USER' }),
    actorId: t.id({ nullable: true, description: "The acting user's id (a platform operator's in a support session); null for the platform.", resolve: (entry) => entry.actorId }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeString('targetId', { nullable: true }),
    ipAddress: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    requestId: t.exposeString('requestId', { nullable: true }),
    details: t.string({ description: 'What changed, as a JSON object (never a secret).', resolve: (entry) => JSON.stringify(entry.details ?? {}) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
