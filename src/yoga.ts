import './polyfills';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { isDatabaseUnavailable } from './db/database-errors';
import { databaseUnavailable } from './errors';
import { schema } from './schema/index';
import { AccessCache, type AccessCacheOptions } from './auth/access-cache';
import { createContextFactory, type Context, type ContextDependencies } from './context';
import { useExecutionCancellation } from './plugins/use-execution-cancellation';
import { useCompiledQueries, type CompiledQueriesOptions } from './plugins/use-compiled-queries';
import { useInputErrors } from './plugins/use-input-errors';
import { useOperationLimits } from './plugins/use-operation-limits';
import { PlanLimits } from './limits/plan-limits';
import { useOrganizationConcurrency } from './plugins/use-organization-concurrency';
import { useResponseSizeLimit } from './plugins/use-response-size-limit';
import { usePaymentWebhook } from './plugins/use-payment-webhook';
import { useHealth } from './plugins/use-health';
import { useMetrics } from './plugins/use-metrics';
import { useRequestLog } from './plugins/use-request-log';
import { useDashboard } from './ops/dashboard/dashboard';
import { graphiqlOptions, renderTenantGraphiQL, type DemoSignIn } from './ops/graphiql';
import type { Logger } from './ops/logger';
import type { Metrics } from './ops/metrics';
import { useRequestScope } from './ops/request-scope';
import { useTracing } from './ops/tracing';
import type { Tracer } from '@opentelemetry/api';
import { useRequestBodyLimit } from './plugins/use-request-body-limit';
import { useRequestTransaction } from './plugins/use-request-transaction';
import { useRequestCacheRelease } from './plugins/use-request-cache-release';
import { useUsage } from './plugins/use-usage';
import { createSafeLogger } from './logging';
import { DEFAULT_GRACE_DAYS } from './billing/entitlements';
import { useBillingGate } from './plugins/use-billing-gate';
import { useSupportSessions } from './plugins/use-support-sessions';
import { useDomainEmailLink } from './plugins/use-domain-email-link';
import { createUsageRecorder, type Queryable, type UsageRecorder } from './usage/recorder';
import { useFileDownloads } from './plugins/use-file-downloads';
import { useStreamingUpload } from './plugins/use-streaming-upload';
import type { FileStore } from './storage/file-store';
import { createDenialRecorder, type DenialRecorder } from './audit/access-denials';
import { useAccessDenials } from './plugins/use-access-denials';

export interface GatewayOptions extends Omit<ContextDependencies, 'usage' | 'accessCache' | 'denials'> {
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
  /** Yoga's logger; `false` to silence it (tests). Ignored when `logger` is given. */
  logging?: boolean;
  /** pino (src/ops/logger.ts): one line per request, and Yoga's own messages. */
  logger?: Logger;
  /** OpenTelemetry (src/ops/tracing.ts): a span per request and per execution. */
  tracer?: Tracer;
  /** Prometheus metrics (src/ops/metrics.ts), served at /metrics. */
  metrics?: Metrics;
  /** Demo users GraphiQL and /dashboard offer to sign in as (development only). @default none */
  demoSignIns?: () => DemoSignIn[];
  /** Serve the usage dashboard at /dashboard. @default true */
  dashboard?: boolean;
  /** The newest migration this build ships: /readyz fails while the database is behind it. */
  expectedMigration?: string;
  /** True once a stop has begun: /readyz answers 503 "draining". */
  draining?: () => boolean;
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
   * The access cache (src/auth/access-cache.ts, ACCESS_CACHE_SIZE and
   * ACCESS_CACHE_MAX_AGE_MS): a member's repeated requests read one version row
   * instead of running app.request_access(). `false`: every request runs the full check.
   * @default 10,000 entries, 5 s
   */
  accessCache?: AccessCacheOptions | false;
  /**
   * The largest request body accepted, in bytes: larger ones are refused with
   * 413 (src/plugins/use-request-body-limit.ts).
   * @default 25_000_000, Yoga's own default
   */
  maxRequestBodySize?: number;
  /**
   * Days a PAST_DUE organization keeps writing before it turns read-only (BILLING_GRACE_DAYS).
   * @default 14
   */
  billingGraceDays?: number;
  /** Operation limits (src/plugins/use-operation-limits.ts): ANONYMOUS_MAX_TOKENS and OPERATION_COST_PER_API_CALL. */
  operationLimits?: { anonymousMaxTokens?: number; costPerApiCall?: number };
  /**
   * Per-organization concurrency (src/plugins/use-organization-concurrency.ts): ORGANIZATION_CONCURRENCY,
   * ORGANIZATION_QUEUE, ORGANIZATION_QUEUE_WAIT_MS, ANONYMOUS_CONCURRENCY, REFUSAL_COOLDOWN_MS, REFUSALS_PER_SECOND. `false`: no limit.
   * @default half the pool (at least 2) per organization, 2 for all anonymous callers, a queue of 1,000, 20 s of waiting
   */
  organizationConcurrency?: { limit?: number; queue?: number; maxWaitMs?: number; anonymousLimit?: number; refusalCooldownMs?: number; refusalsPerSecond?: number } | false;
  /**
   * MAX_RESPONSE_BYTES: the largest response sent; larger ones are replaced by RESPONSE_TOO_LARGE.
   * @default 10_000_000
   */
  maxResponseBytes?: number;
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
  /**
   * Denied access audited and alerted (src/audit/access-denials.ts): a request's
   * refusals written once its response is out, one statement, on `db.pool`.
   * A recorder of your own: you can wait for its writes (tests). `false`: not
   * recorded (the responses are the same either way).
   * @default true
   */
  accessDenials?: boolean | DenialRecorder;
  /**
   * GRAPHQL_JIT: a query seen before runs as JavaScript compiled for its document
   * by graphql-jit (src/plugins/use-compiled-queries.ts, ADR 0098). `false`: every
   * operation is interpreted by the graphql-tools executor.
   * @default true
   */
  jit?: boolean | CompiledQueriesOptions;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, Context>;

/**
 * The GraphQL gateway as a fetch handler: tests call `gateway.fetch(...)`
 * in-process, src/server.ts puts it behind node:http.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { usage = true } = options;
  const planLimits = new PlanLimits({ pool: options.db.pool, anonymousMaxTokens: options.operationLimits?.anonymousMaxTokens, now: options.now });
  void planLimits.refresh();
  const fairness =
    options.organizationConcurrency === false
      ? {}
      : useOrganizationConcurrency({
          ...options.organizationConcurrency,
          verifyToken: options.verifyToken,
          limit: options.organizationConcurrency?.limit ?? Math.max(2, Math.ceil((options.db.pool.options.max ?? 10) / 2)),
        });
  const signIns = options.demoSignIns ?? (() => []);
  const metrics = options.metrics;
  // The flush lag of /metrics: a flush's connection, once released, marks a flush done.
  const usagePool: Queryable = metrics
    ? {
        connect: async () => {
          const connection = await options.db.pool.connect();
          return {
            query: (text: string) => connection.query(text),
            escapeLiteral: (value: string) => connection.escapeLiteral(value),
            release: (destroy?: boolean | Error) => {
              connection.release(destroy);
              metrics.usageFlushed();
            },
          };
        },
      }
    : options.db.pool;
  const recorder = usage === true ? createUsageRecorder({ pool: usagePool, now: options.now }) : usage || null;
  const accessCache = options.accessCache === false ? undefined : new AccessCache(options.accessCache ?? { max: 10_000, maxAgeMs: 5_000 });
  const denials =
    options.accessDenials === false ? null : options.accessDenials === true || options.accessDenials === undefined ? createDenialRecorder({ pool: options.db.pool, onError: (error) => options.logger?.error({ err: error }, 'access denials not recorded') }) : options.accessDenials;
  const createContext = createContextFactory({ ...options, usage: recorder ?? undefined, accessCache, denials: denials ?? undefined });
  const { files, maxUploadBytes = 5 * 1024 ** 3 } = options;
  const makeContext: typeof createContext = files ? async (initial) => Object.assign(await createContext(initial), { files }) : createContext;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: makeContext,
    graphiql: (options.graphiql ?? true) ? graphiqlOptions(signIns) : false,
    renderGraphiQL: renderTenantGraphiQL(signIns),
    // SECURITY: unexpected errors reach the client as "Unexpected error." only.
    // A lost or restarting database is 503 DATABASE_UNAVAILABLE with Retry-After, not a masked 500 (ADR 0034).
    maskedErrors: { isDev: options.exposeErrorDetails ?? false, maskError: (error, message, isDev) => (isDatabaseUnavailable(error) ? databaseUnavailable() : maskError(error, message, isDev)) },
    // pino when the server gives one (src/ops/); else escaped, bounded lines (src/logging.ts): error messages carry user text.
    logging: options.logger ? yogaLogger(options.logger) : options.logging === false ? false : createSafeLogger(),
    // Yoga's own check answers an empty body; useHealth answers /healthz with JSON.
    healthCheckEndpoint: '/.yoga-health',
    landingPage: false,
    // Yoga's limit counts every body as a stream; useRequestBodyLimit (last) trusts a Content-Length.
    maxRequestBodySize: false,
    plugins: [
      // First: every later hook runs inside the request's observation.
      useRequestScope(),
      options.logger ? useRequestLog(options.logger) : {},
      options.metrics ? useMetrics(options.metrics) : {},
      options.tracer ? useTracing(options.tracer) : {},
      useHealth({ pool: options.db.pool, expectedMigration: options.expectedMigration, draining: options.draining, graphiql: options.graphiql ?? true }),
      (options.dashboard ?? true) ? useDashboard({ signIns }) : {},
      // A client that goes away stops its interpreted operation: no resolver starts after that (a compiled
      // query only has its statement cancelled, ADR 0098).
      useExecutionCancellation(),
      // Before useRequestTransaction, which wraps the execute function this sets.
      (options.jit ?? true) !== false ? useCompiledQueries(typeof options.jit === 'object' ? options.jit : {}) : {},
      // First: a request waiting for its organization's turn has cost nothing yet.
      fairness,
      useInputErrors(),
      // Before the request transaction: a refused operation opens none.
      useOperationLimits(planLimits, options.verifyToken),
      recorder ? useUsage(recorder, { costPerApiCall: options.operationLimits?.costPerApiCall }) : {},
      useRequestTransaction(options.db, makeContext),
      denials ? useAccessDenials({ recorder: denials, verifyToken: options.verifyToken, trustedProxies: options.trustedProxies }) : {},
      useSupportSessions(),
      useBillingGate({ graceDays: options.billingGraceDays ?? DEFAULT_GRACE_DAYS, now: options.now }),
      useRequestCacheRelease(),
      usePaymentWebhook({ secret: options.paymentWebhookSecret, system: options.system, now: options.now }),
      useDomainEmailLink({ pool: options.db.pool }),
      useResponseSizeLimit(options.maxResponseBytes ?? 10_000_000),
      useFileDownloads({ files, prisma: options.db.prisma, usage: recorder }),
      useStreamingUpload({ maxFileBytes: maxUploadBytes }),
      // After every request parser: it wraps the one selected.
      useRequestBodyLimit(options.maxRequestBodySize ?? 25_000_000, { multipartLimit: maxUploadBytes + 1024 * 1024 }),
    ],
  });
}

/** Yoga's messages through pino: an Error goes in `err`, the rest joins into the message. */
function yogaLogger(logger: Logger) {
  const level = (name: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const error = args.find((a): a is Error => a instanceof Error);
    const message = args.filter((a) => !(a instanceof Error)).map(String).join(' ');
    if (error) logger[name]({ err: error }, message || error.message);
    else logger[name](message);
  };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
