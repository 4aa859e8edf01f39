import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { Role } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { failedPrecondition, notFound } from '../../errors';
import { isPublicAddress } from '../../events/http-post';
import { newWebhookSecret } from '../../events/signing';
import { httpsUrl } from '../../settings';
import { globalIdOf } from '../global-id';
import { WEBHOOK_ENDPOINT_COLUMNS, WebhookEndpoint, type WebhookEndpointRow } from './webhook-endpoint.type';

/** Endpoints per organization: each event is sent to each, so their number is bounded. */
const MAX_ENDPOINTS = 20;

/**
 * SECURITY: an address literal or `localhost` inside the platform's network is
 * refused at once, with a clear error; names are checked again on every
 * delivery, against what they resolve to (src/events/http-post.ts).
 */
const endpointUrl = httpsUrl.refine((value) => {
  const host = new URL(value).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return false;
  return !ipaddr.isValid(host) || isPublicAddress(host);
}, 'must not point at a private, loopback or link-local address');

const eventTypes = z
  .array(z.string().regex(/^(\*|[a-z_]+(\.[a-z_*]+)+)$/, "must be event types such as project.created, or '*'"))
  .min(1, 'must list at least one event type')
  .max(50, 'must list at most 50 event types')
  .refine((types) => new Set(types).size === types.length, 'must not repeat an event type');

const description = z.string().trim().max(500, 'must be at most 500 characters');
const manageWebhooks = { authScopes: { $all: { role: ['OWNER', 'ADMIN'] as Role[], feature: 'webhooks' as const } } };

const EndpointWithSecret = builder.objectRef<{ endpoint: WebhookEndpointRow; secret: string }>('WebhookEndpointWithSecret').implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpoint, resolve: (payload) => payload.endpoint }),
    secret: t.exposeString('secret', { description: 'The signing secret (whsec_...). Shown this once: store it in the receiver.' }),
  }),
});
const EndpointPayload = payloadType<{ endpoint: WebhookEndpointRow }>('WebhookEndpointPayload', {
  fields: (t) => ({ endpoint: t.field({ type: WebhookEndpoint, resolve: (payload) => payload.endpoint }) }),
});
const DeletePayload = payloadType<{ deletedId: string }>('DeleteWebhookEndpointPayload', {
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

const CreateInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ required: true, validate: endpointUrl }),
    events: t.stringList({ required: true, validate: eventTypes }),
    description: t.string({ validate: description }),
  }),
});
const UpdateInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    id: t.id({ required: true, validate: globalIdOf('WebhookEndpoint') }),
    url: t.string({ validate: endpointUrl }),
    events: t.stringList({ validate: eventTypes }),
    description: t.string({ validate: description }),
    enabled: t.boolean({ description: 'false pauses deliveries; true enables an endpoint again (also one the platform disabled).' }),
  }),
});
const IdInput = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ id: t.id({ required: true, validate: globalIdOf('WebhookEndpoint') }) }) });
const RotateInput = IdInput('RotateWebhookSecretInput');
const DeleteInput = IdInput('DeleteWebhookEndpointInput');

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    ...manageWebhooks,
    type: EndpointWithSecret,
    description: `Adds an endpoint (OWNER, ADMIN; the webhooks feature on). Returns its signing secret, once. At most ${MAX_ENDPOINTS} per organization (FAILED_PRECONDITION).`,
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.tenantDb().$transaction(async (tx) => {
        const [{ count }] = await tx.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM webhook_endpoints`;
        if (count >= MAX_ENDPOINTS) throw failedPrecondition(`An organization has at most ${MAX_ENDPOINTS} webhook endpoints`);
        const secret = newWebhookSecret();
        const [endpoint] = await tx.$queryRawUnsafe<WebhookEndpointRow[]>(
          `INSERT INTO webhook_endpoints (url, event_types, description, secret) VALUES ($1, $2::text[], $3, $4) RETURNING ${WEBHOOK_ENDPOINT_COLUMNS}`,
          input.url, input.events, input.description ?? '', secret,
        );
        return { endpoint, secret };
      }),
  }),
  updateWebhookEndpoint: t.field({
    ...manageWebhooks,
    type: EndpointPayload,
    description: 'Changes an endpoint. NOT_FOUND for an id of another organization.',
    args: { input: t.arg({ type: UpdateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const [endpoint] = await ctx.tenantDb().$queryRawUnsafe<WebhookEndpointRow[]>(
        `UPDATE webhook_endpoints SET url = coalesce($2, url), event_types = coalesce($3::text[], event_types), description = coalesce($4, description),
                enabled = coalesce($5, enabled), disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END,
                failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END, updated_at = now()
          WHERE id = $1::uuid RETURNING ${WEBHOOK_ENDPOINT_COLUMNS}`,
        String(input.id), input.url ?? null, input.events ?? null, input.description ?? null, input.enabled ?? null,
      );
      if (!endpoint) throw notFound('WebhookEndpoint');
      return { endpoint };
    },
  }),
  rotateWebhookSecret: t.field({
    ...manageWebhooks,
    type: EndpointWithSecret,
    description: 'Replaces the signing secret; the new one is returned once and signs every delivery from now on.',
    args: { input: t.arg({ type: RotateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const secret = newWebhookSecret();
      const [endpoint] = await ctx.tenantDb().$queryRawUnsafe<WebhookEndpointRow[]>(
        `UPDATE webhook_endpoints SET secret = $2, updated_at = now() WHERE id = $1::uuid RETURNING ${WEBHOOK_ENDPOINT_COLUMNS}`,
        String(input.id), secret,
      );
      if (!endpoint) throw notFound('WebhookEndpoint');
      return { endpoint, secret };
    },
  }),
  deleteWebhookEndpoint: t.field({
    ...manageWebhooks,
    type: DeletePayload,
    description: 'Deletes an endpoint and its deliveries.',
    args: { input: t.arg({ type: DeleteInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const deleted = await ctx.tenantDb().$executeRawUnsafe(`DELETE FROM webhook_endpoints WHERE id = $1::uuid`, String(input.id));
      if (deleted === 0) throw notFound('WebhookEndpoint');
      return { deletedId: String(input.id) };
    },
  }),
}));
