import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { schema } from './schema/index';
import { createContextFactory, type Context, type ContextDependencies } from './context';
import { useInputErrors } from './plugins/use-input-errors';
import { usePaymentWebhook } from './plugins/use-payment-webhook';
import { useReadiness } from './plugins/use-readiness';
import { useRequestBodyLimit } from './plugins/use-request-body-limit';
import { useRequestTransaction } from './plugins/use-request-transaction';
import { useRequestCacheRelease } from './plugins/use-request-cache-release';
import { useUsage } from './plugins/use-usage';
import { createUsageRecorder, type UsageRecorder } from './usage/recorder';
import { useFileDownloads } from './plugins/use-file-downloads';
import { useStreamingUpload } from './plugins/use-streaming-upload';
import type { FileStore } from './storage/file-store';

export interface GatewayOptions extends Omit<ContextDependencies, 'usage'> {
  /**
   * Serve GraphiQL at the GraphQL endpoint.
   * @default true
   */
  graphiql?: boolean;
  /**
   * Include the original error message and stack of unexpected errors in
   * responses. Never in production.
   * @default false
   */
  exposeErrorDetails?: boolean;
  /** Yoga's logger; `false` to silence it (tests). */
  logging?: boolean;
  /**
   * Usage tracking (src/usage/): API calls, response bytes, execution time and
   * active users per organization, and the API_CALLS quota. `true`: a recorder
   * on `db.pool` that writes every second or every 1,000 calls. A recorder of
   * your own: you control its flushes (tests). `false`: no counting and no quota
   * check (the benchmark measures what usage tracking costs this way).
   * `gateway.dispose()` closes the recorder, writing what is pending.
   * @default true
   */
  usage?: boolean | UsageRecorder;
  /**
   * The largest request body accepted, in bytes: larger ones are refused with
   * 413 (src/plugins/use-request-body-limit.ts).
   * @default 25_000_000, Yoga's own default
   */
  maxRequestBodySize?: number;
  /** PAYMENT_WEBHOOK_SECRET: serves `POST /webhooks/payments` (src/plugins/use-payment-webhook.ts) on the system client. */
  paymentWebhookSecret?: string;
  /**
   * Per-organization files (src/storage/): uploadFile, files, deleteFile and the
   * signed downloads of `GET /files/…`. Without it those fields fail.
   */
  files?: FileStore;
  /**
   * The largest file any plan allows, in bytes (plan_upload_limits): the bound of
   * a multipart request's body; each plan's own limit is checked by uploadFile.
   * @default 5 GiB
   */
  maxUploadBytes?: number;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, Context>;

/**
 * The GraphQL gateway as a fetch handler: tests call `gateway.fetch(...)`
 * in-process, src/server.ts puts it behind node:http.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { usage = true } = options;
  const recorder = usage === true ? createUsageRecorder({ pool: options.db.pool, now: options.now }) : usage || null;
  const createContext = createContextFactory({ ...options, usage: recorder ?? undefined });
  const { files, maxUploadBytes = 5 * 1024 ** 3 } = options;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: files ? async (initial) => Object.assign(await createContext(initial), { files }) : createContext,
    graphiql: options.graphiql ?? true,
    // SECURITY: unexpected errors reach the client as "Unexpected error." only.
    maskedErrors: { isDev: options.exposeErrorDetails ?? false },
    logging: options.logging ?? true,
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    // Yoga's limit counts every body as a stream; useRequestBodyLimit (last) trusts a Content-Length.
    maxRequestBodySize: false,
    plugins: [
      useInputErrors(),
      recorder ? useUsage(recorder) : {},
      useRequestTransaction(),
      useRequestCacheRelease(),
      usePaymentWebhook({ secret: options.paymentWebhookSecret, system: options.system, now: options.now }),
      useReadiness({
        endpoint: '/readyz',
        check: async () => {
          try {
            await options.db.pool.query('SELECT 1');
            return true;
          } catch {
            return false;
          }
        },
      }),
      useFileDownloads({ files, prisma: options.db.prisma, usage: recorder }),
      useStreamingUpload({ maxFileBytes: maxUploadBytes }),
      // After every request parser: it wraps the one selected.
      useRequestBodyLimit(options.maxRequestBodySize ?? 25_000_000, { multipartLimit: maxUploadBytes + 1024 * 1024 }),
    ],
  });
}
