import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { z } from 'zod';
import type { SystemDatabase } from '../db/system';
import { expectedAmount, recordPayment, type PaymentOutcome } from '../billing/payments';
import { globalIdOf } from '../schema/global-id';
import { CLOSE_CONNECTION, readBodyLimited } from '../limits/body';

/**
 * `POST /webhooks/payments`: the payment provider reports a paid invoice.
 *
 * The body is JSON: `{ "invoiceId": "<Invoice ID>", "amount": 27310,
 * "currency": "USD", "timestamp": <unix seconds> }`, amount in minor units.
 * The header `X-Tenantgate-Signature: sha256=<hex>` is the HMAC-SHA256 of the
 * raw body with PAYMENT_WEBHOOK_SECRET.
 *
 * SECURITY: the signature is compared in constant time; the timestamp is inside
 * the signed body, and one older (or newer) than `toleranceSeconds` is refused,
 * so a captured request cannot be replayed later. Within the window a replay
 * changes nothing: the invoice is PAID already. Every refusal of the signature
 * or the timestamp is 401 and touches no table.
 *
 * Answers (JSON): 200 paid (`alreadyPaid: true` for a redelivery, so the provider
 * stops retrying), 400 a malformed body, 401 signature or timestamp, 404 no such
 * invoice, 409 a void invoice or an amount that is not the total, 405, 413.
 */

export const PAYMENT_WEBHOOK_PATH = '/webhooks/payments';
export const PAYMENT_SIGNATURE_HEADER = 'X-Tenantgate-Signature';

export interface PaymentWebhookOptions {
  /** PAYMENT_WEBHOOK_SECRET. Without it there is no webhook (404). */
  secret?: string;
  /** The system client: payments write what the runtime role may not. */
  system?: SystemDatabase;
  /** How far a payload's timestamp may be from now. @default 300 */
  toleranceSeconds?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

const MAX_BODY_BYTES = 64 * 1024;

/** The header value for a body: what the provider sends, and what the tests sign with. */
export function signPaymentWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureValid(secret: string, body: string, header: string | null): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(body).digest(), Buffer.from(match[1], 'hex'));
}

const PaymentBody = z.object({
  invoiceId: globalIdOf('Invoice'),
  amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code, e.g. USD'),
  timestamp: z.number().int(),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function answer(outcome: PaymentOutcome): [number, Record<string, unknown>] {
  switch (outcome.kind) {
    case 'paid':
      return [200, { status: 'PAID', alreadyPaid: false, subscriptionStatus: outcome.subscription.status, paidThrough: outcome.subscription.paidThrough }];
    case 'already-paid':
      return [200, { status: 'PAID', alreadyPaid: true }];
    case 'not-found':
      return [404, { error: 'Invoice not found' }];
    case 'void':
      return [409, { error: 'The invoice is void: there is nothing to pay' }];
    case 'amount-mismatch':
      return [409, { error: `amount ${expectedAmount(outcome.invoice)}` }];
  }
}

export function usePaymentWebhook({ secret, system, toleranceSeconds = 300, now = Date.now }: PaymentWebhookOptions): Plugin {
  if (!secret) return {};
  if (!system) throw new Error('The payment webhook (PAYMENT_WEBHOOK_SECRET) needs DATABASE_ADMIN_URL: it records payments as the platform.');

  async function handle(request: Request): Promise<[number, Record<string, unknown>]> {
    if (request.method !== 'POST') return [405, { error: 'Use POST' }];
    // SECURITY: at most MAX_BODY_BYTES are ever held, chunked or not (src/limits/body.ts).
    const read = await readBodyLimited(request, MAX_BODY_BYTES);
    if (!read.ok) return read.reason === 'too-large' ? [413, { error: 'Body too large' }] : [400, { error: 'Content-Length header is invalid' }];
    const body = read.bytes.toString('utf8');
    if (!signatureValid(secret!, body, request.headers.get(PAYMENT_SIGNATURE_HEADER))) return [401, { error: 'Invalid signature' }];

    const payload = PaymentBody.safeParse(parseJson(body));
    if (!payload.success) {
      return [400, { error: 'Invalid payload', fields: payload.error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message })) }];
    }
    const { invoiceId, amount, currency, timestamp } = payload.data;
    if (Math.abs(now() / 1000 - timestamp) > toleranceSeconds) return [401, { error: `Stale timestamp: more than ${toleranceSeconds} seconds from now` }];
    return answer(await recordPayment(system!, { invoiceId, amountMinor: BigInt(amount), currency, now: new Date(now()) }));
  }

  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== PAYMENT_WEBHOOK_PATH) return;
      const [status, body] = await handle(request).catch((error: unknown) => {
        // SECURITY: like masked GraphQL errors, nothing of the failure reaches the caller.
        console.error('payment webhook:', error);
        return [500, { error: 'Unexpected error.' }] as [number, Record<string, unknown>];
      });
      // A refused body may still be streaming in: closing the connection stops it.
      const close = status === 413 || status === 400 ? CLOSE_CONNECTION : {};
      endResponse(new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...close } }));
    },
  };
}
