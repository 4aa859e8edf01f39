import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { schema } from './schema/index';
import { createContextFactory, type Context, type ContextDependencies } from './context';
import { useInputErrors } from './plugins/use-input-errors';
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
import { createUsageRecorder, type UsageRecorder } from './usage/recorder';

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
   * The largest request body accepted, in bytes: larger ones are refused with
   * 413 (src/plugins/use-request-body-limit.ts).
   * @default 25_000_000, Yoga's own default
   */
  maxRequestBodySize?: number;
  /** PAYMENT_WEBHOOK_SECRET: serves `POST /webhooks/payments` (src/plugins/use-payment-webhook.ts) on the system client. */
  paymentWebhookSecret?: string;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, Context>;

/**
 * The GraphQL gateway as a fetch handler: tests call `gateway.fetch(...)`
 * in-process, src/server.ts puts it behind node:http.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { usage = true } = options;
  const signIns = options.demoSignIns ?? (() => []);
  const metrics = options.metrics;
  // The flush lag of /metrics: the recorder's writes are timed at its pool.
  const usagePool = metrics
    ? { query: (text: string, values: unknown[]) => options.db.pool.query(text, values).then((result) => (metrics.usageFlushed(), result)) }
    : options.db.pool;
  const recorder = usage === true ? createUsageRecorder({ pool: usagePool, now: options.now }) : usage || null;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: createContextFactory({ ...options, usage: recorder ?? undefined }),
    graphiql: (options.graphiql ?? true) ? graphiqlOptions(signIns) : false,
    renderGraphiQL: renderTenantGraphiQL(signIns),
    // SECURITY: unexpected errors reach the client as "Unexpected error." only.
    maskedErrors: { isDev: options.exposeErrorDetails ?? false },
    logging: options.logger ? yogaLogger(options.logger) : (options.logging ?? true),
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
      useInputErrors(),
      recorder ? useUsage(recorder) : {},
      useRequestTransaction(),
      useRequestCacheRelease(),
      usePaymentWebhook({ secret: options.paymentWebhookSecret, system: options.system, now: options.now }),
      // After every request parser: it wraps the one selected.
      useRequestBodyLimit(options.maxRequestBodySize ?? 25_000_000),
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
