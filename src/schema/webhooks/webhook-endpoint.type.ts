import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder';

/** A webhook endpoint as the runtime role may read it: never its secret. */
export interface WebhookEndpointRow {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const WEBHOOK_ENDPOINT_COLUMNS = `id, url, description, event_types AS "eventTypes", enabled, disabled_reason AS "disabledReason",
  failing_since AS "failingSince", created_at AS "createdAt", updated_at AS "updatedAt"`;

export const WebhookEndpoint = builder.objectRef<WebhookEndpointRow>('WebhookEndpoint').implement({
  description: 'Where the organization\'s events are POSTed, signed as Standard Webhooks says. Its signing secret is shown once, when created or rotated.',
  fields: (t) => ({
    id: t.id({ resolve: (endpoint) => encodeGlobalID('WebhookEndpoint', endpoint.id) }),
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    events: t.exposeStringList('eventTypes', { description: "Event types delivered here ('*' for all)." }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why the platform disabled it (failing for 3 days), if it did.' }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'Since when every delivery has failed; null once one succeeds.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export interface WebhookDeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  attemptLog: { at: string; statusCode: number | null; latencyMs: number; error: string | null }[];
  createdAt: Date;
}

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'PENDING: queued; RETRYING: failed, another attempt is scheduled; SUCCEEDED; DEAD: every attempt failed (redeliverWebhook tries again).',
  values: ['PENDING', 'RETRYING', 'SUCCEEDED', 'DEAD'] as const,
});

const WebhookAttempt = builder.objectRef<WebhookDeliveryRow['attemptLog'][number]>('WebhookAttempt').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (attempt) => new Date(attempt.at) }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status; null when no response came (timeout, refused address).' }),
    latencyMs: t.exposeInt('latencyMs'),
    error: t.exposeString('error', { nullable: true }),
  }),
});

export const WebhookDelivery = builder.objectRef<WebhookDeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent to one endpoint, with its attempts (the latest 20).',
  fields: (t) => ({
    id: t.id({ resolve: (delivery) => encodeGlobalID('WebhookDelivery', delivery.id) }),
    eventId: t.exposeString('eventId', { description: 'The webhook-id header: the same on every attempt (the receiver\'s idempotency key).' }),
    eventType: t.exposeString('eventType'),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (delivery) => delivery.status as 'PENDING' }),
    attemptCount: t.exposeInt('attempts'),
    attempts: t.field({ type: [WebhookAttempt], resolve: (delivery) => delivery.attemptLog }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastLatencyMs: t.exposeInt('lastLatencyMs', { nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
