import { resolveCursorConnection } from '@pothos/plugin-relay';
import type { Role } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { badUserInput, notFound } from '../../errors';
import { globalIdOf } from '../global-id';
import {
  WEBHOOK_ENDPOINT_COLUMNS,
  WebhookDelivery,
  WebhookDeliveryStatusEnum,
  WebhookEndpoint,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from './webhook-endpoint.type';

const readWebhooks = { authScopes: { $all: { role: ['OWNER', 'ADMIN'] as Role[], feature: 'webhooks' as const } } };

const DELIVERY_COLUMNS = `id, event_id AS "eventId", event_type AS "eventType", status, attempts, last_status_code AS "lastStatusCode",
  last_latency_ms AS "lastLatencyMs", last_error AS "lastError", next_attempt_at AS "nextAttemptAt", attempt_log AS "attemptLog", created_at AS "createdAt"`;

const cursor = {
  encode: (row: WebhookDeliveryRow) => Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url'),
  decode(value: string | undefined, field: string): { createdAt: Date; id: string } | undefined {
    if (value === undefined) return undefined;
    const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(Buffer.from(value, 'base64url').toString());
    if (!match) throw badUserInput([{ field, message: 'is not a valid cursor' }]);
    return { createdAt: new Date(match[1]), id: match[2] };
  },
};

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    ...readWebhooks,
    type: [WebhookEndpoint],
    description: "The organization's webhook endpoints (at most 20), oldest first.",
    resolve: (_root, _args, ctx) =>
      ctx.tenantDb().$queryRawUnsafe<WebhookEndpointRow[]>(`SELECT ${WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id`),
  }),
  webhookDeliveries: t.connection({
    ...readWebhooks,
    type: WebhookDelivery,
    description: "An endpoint's deliveries, newest first, with each attempt's status code and latency.",
    args: {
      endpointId: t.arg.id({ required: true, validate: globalIdOf('WebhookEndpoint') }),
      status: t.arg({ type: WebhookDeliveryStatusEnum }),
    },
    resolve: (_root, args, ctx) =>
      resolveCursorConnection<Promise<WebhookDeliveryRow[]>>({ args, toCursor: cursor.encode }, async ({ after, before, limit, inverted }) => {
        const values: unknown[] = [String(args.endpointId)];
        const where = [`destination = 'webhook'`, `endpoint_id = $1::uuid`];
        if (args.status) where.push(`status = $${values.push(args.status)}`);
        const a = cursor.decode(after, 'after');
        const b = cursor.decode(before, 'before');
        if (a) where.push(`(created_at, id) < ($${values.push(a.createdAt)}::timestamptz, $${values.push(a.id)}::uuid)`);
        if (b) where.push(`(created_at, id) > ($${values.push(b.createdAt)}::timestamptz, $${values.push(b.id)}::uuid)`);
        const order = inverted ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
        const tx = ctx.tenantDb();
        // An endpoint of another organization reads as missing: NOT_FOUND, as for one that never existed.
        const [endpoint] = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM webhook_endpoints WHERE id = $1::uuid`, String(args.endpointId));
        if (!endpoint) throw notFound('WebhookEndpoint');
        return tx.$queryRawUnsafe<WebhookDeliveryRow[]>(
          `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT $${values.push(limit)}`,
          ...values,
        );
      }),
  }),
}));

const RedeliverPayload = payloadType<{ delivery: WebhookDeliveryRow }>('RedeliverWebhookPayload', {
  fields: (t) => ({ delivery: t.field({ type: WebhookDelivery, resolve: (payload) => payload.delivery }) }),
});

builder.mutationField('redeliverWebhook', (t) =>
  t.field({
    ...readWebhooks,
    type: RedeliverPayload,
    description: 'Sends a delivery again, with the same webhook-id, and a fresh set of attempts. NOT_FOUND for another organization\'s.',
    args: { deliveryId: t.arg.id({ required: true, validate: globalIdOf('WebhookDelivery') }) },
    resolve: async (_root, args, ctx) => {
      const [delivery] = await ctx.tenantDb().$queryRawUnsafe<WebhookDeliveryRow[]>(
        `WITH requeued AS (UPDATE deliveries SET requeued_at = now(), updated_at = now() WHERE id = $1::uuid AND destination = 'webhook' RETURNING *),
              woken AS (SELECT pg_notify('tenantgate_events', ''))
         SELECT ${DELIVERY_COLUMNS} FROM requeued, woken`,
        String(args.deliveryId),
      );
      if (!delivery) throw notFound('WebhookDelivery');
      return { delivery };
    },
  }),
);
