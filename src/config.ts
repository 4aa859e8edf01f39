import { existsSync } from 'node:fs';
import type { AuthConfig } from './auth/tokens';
import { defaultEventWorkerConfig, type EventWorkerConfig } from './events/config';
import { parseCidr } from './settings';

/** Everything the gateway reads from the environment; documented in the README. */
export interface Config {
  /** Runtime connection: a role that is not superuser, owns no table, has no BYPASSRLS. Unset: embedded PostgreSQL. */
  databaseUrl?: string;
  /** Owner role, for migrations, the demo seed and platform jobs. */
  databaseAdminUrl?: string;
  /**
   * DATABASE_SCHEMA: the PostgreSQL schema of tenantgate's own tables. It must be the
   * one prisma/schema.prisma gives tenantgate's models (`@@schema`), which Prisma
   * compiles into the client; the gateway and db:migrate refuse to start otherwise
   * (src/db/schemas.ts, docs/adr/0090-own-schema.md). @default tenantgate
   */
  databaseSchema: string;
  /** @default 4000 */
  port: number;
  /** Connections in the runtime pool. @default 10 */
  poolSize: number;
  auth: AuthConfig;
  production: boolean;
  /** NODE_ENV=development: masked errors carry the original message and stack. */
  development: boolean;
  /** Where the embedded PostgreSQL keeps its data. @default .data */
  dataDir: string;
  /** Port of the embedded PostgreSQL. @default 54329 */
  embeddedPort: number;
  /** Proxies whose X-Forwarded-For is believed (CIDRs). @default none: the socket address is the client */
  trustedProxies: string[];
  /** Days a PAST_DUE organization keeps writing before it turns read-only. @default 14 */
  billingGraceDays: number;
  /** statement_timeout of the runtime pool's sessions, ms; 0 for none. @default 10000 */
  statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout of the runtime pool's sessions, ms; 0 for none. @default 15000 */
  idleInTransactionTimeoutMs: number;
  /** Requests of one organization on the database at once. @default half of DATABASE_POOL_SIZE, at least 2 */
  organizationConcurrency?: number;
  /** How long a refused request (400, 413) beyond the allowance keeps its caller's turn after its answer, ms. @default 250 */
  refusalCooldownMs: number;
  /** Refused requests per caller and second answered without a cooldown (bursts of twice that). @default 10 */
  refusalsPerSecond: number;
  /** Requests of one organization that may wait for a turn. @default 1000 */
  organizationQueue: number;
  /** How long a request may wait for its organization's turn, ms. @default 20000 */
  organizationQueueWaitMs: number;
  /** ACCESS_CACHE_SIZE: members whose access check is remembered (by version, src/auth/access-cache.ts); 0 turns it off. @default 10000 */
  accessCacheSize: number;
  /** ACCESS_CACHE_MAX_AGE_MS: how old a remembered check's API-call usage may be; an older one is read again with the version (other processes' calls are seen within it). @default 5000 */
  accessCacheMaxAgeMs: number;
  /** Name Prisma's statements (prepared once per connection); false behind PgBouncer < 1.21 in transaction mode. @default true */
  namedStatements: boolean;
  /** DATABASE_COMPILED_READS: tenant models' lists and gets in a query as SQL compiled by the gateway (src/tenancy/compiled-read.ts); false: Prisma's runtime. @default true */
  compiledReads: boolean;
  /** GRAPHQL_JIT: a query seen before runs as code compiled for its document by graphql-jit (src/plugins/use-compiled-queries.ts); false: interpreted. @default true */
  jit: boolean;
  /** Requests without a valid token processed at once, all together. @default 2 */
  anonymousConcurrency: number;
  /** Token budget of a request without a token. @default 1000 */
  anonymousMaxTokens: number;
  /** Cost units per counted API call: an operation counts ceil(cost / this), at least 1. @default 1000 */
  operationCostPerApiCall: number;
  /** Largest request body, bytes. @default 1000000 */
  maxRequestBodyBytes: number;
  /** Largest response, bytes. @default 10000000 */
  maxResponseBytes: number;
  /** HMAC-SHA256 secret of `POST /webhooks/payments`. @default none: no payment webhook */
  paymentWebhookSecret?: string;
  /** DNS_SERVERS: resolvers for domain verification (`1.1.1.1,127.0.0.1:5353`). @default the system's */
  dnsServers: string[];
  /** SMTP_URL: where mail goes (`smtp://user:pass@host:587`). @default none: .eml files under <dataDir>/mail */
  smtpUrl?: string;
  /** MAIL_FROM: the sender of invitations and verification mail. @default "tenantgate <no-reply@localhost>" */
  mailFrom: string;
  /** PUBLIC_URL: the gateway's address as people reach it, for links in mail. @default http://localhost:<PORT> */
  publicUrl: string;
  /**
   * DOMAIN_VERIFY_ALLOW_PRIVATE: let HTTP domain verification reach private,
   * loopback and link-local addresses. Tests and local setups only. @default false
   */
  domainVerifyAllowPrivate: boolean;
  storage: StorageConfig;
  /** Run the event worker inside `npm start` (EVENTS_WORKER=off when `npm run worker` runs it apart). @default true */
  inProcessWorker: boolean;
  /** The event worker: deliveries, retries, the SSRF guard, integrations (src/events/worker.ts). */
  events: EventWorkerConfig;
  operations: OperationsConfig;
}

/** File storage (src/storage/): where files go and how download URLs are signed. */
export interface StorageConfig {
  /** STORAGE_URL: `s3://bucket/prefix`, or a directory of the local file system. @default <dataDir>/storage */
  url: string;
  /** STORAGE_SIGNING_SECRET: HMAC secret of download URLs. @default random per process: URLs then work only on the process that made them */
  signingSecret?: string;
  /** STORAGE_URL_TTL_SECONDS: how long a download URL is valid. @default 300 */
  urlTtlSeconds: number;
  /** The usual AWS variables, for s3:// only. */
  s3: { region: string; endpoint?: string; accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; forcePathStyle: boolean };
}





/** NODE_ENV=production, for what is decided at module load (src/builder.ts) before the configuration is loaded. */
export function isProduction(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'production';
}

/**
 * TENANTGATE_DISABLE_PATCHES: patches of libraries' internals (src/patches.ts)
 * to leave out, by key (`prismaPromise,boundAdapter,relayGlobalId`), so that
 * `npm run bench:patches` can measure what each buys. Read at module load, like
 * isProduction. @default none
 */
export function disabledPatches(env: NodeJS.ProcessEnv = process.env): ReadonlySet<string> {
  return new Set((env.TENANTGATE_DISABLE_PATCHES ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** Running the gateway as a service (issue 17): listening, logs, metrics, traces, shutdown. */
export interface OperationsConfig {
  /** HOST: the interface the gateway binds. @default 127.0.0.1 (use 0.0.0.0 in a container) */
  host: string;
  /** LOG_LEVEL: pino's level. @default info */
  logLevel: LogLevel;
  /** LOG_FORMAT: `json` (one object a line) or `pretty` (a terminal). @default json in production, pretty otherwise */
  logFormat: LogFormat;
  /** GRAPHIQL: serve GraphiQL at /graphql. @default true, false in production */
  graphiql: boolean;
  /** Demo "sign in as" buttons in GraphiQL and /dashboard (tokens for demo users). @default true outside production */
  demoSignIn: boolean;
  /** SHUTDOWN_DRAIN_MS: how long a stop waits for in-flight requests. @default 10000 */
  drainMs: number;
  /** METRICS: serve Prometheus metrics at /metrics. @default true */
  metrics: boolean;
  /** METRICS_ORGANIZATION_LABELS: the N busiest organizations get their own label; the rest are "other". @default 0 */
  metricsOrganizationLabels: number;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: where traces go (OTLP/HTTP); unset, tracing is off. */
  otlpEndpoint?: string;
  /** OTEL_SERVICE_NAME. @default tenantgate */
  serviceName: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

/** A configuration mistake: one line per bad variable, each naming it and what to do. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Reads `.env` from the working directory into `process.env` when it exists.
 * Variables already set in the environment win (Node's own rule for
 * `process.loadEnvFile`).
 */
export function loadDotEnv(file = '.env'): boolean {
  if (!existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  string(name: string): string | undefined {
    return this.env[name] || undefined;
  }

  integer(name: string, fallback: number, { min = 1, max = Number.MAX_SAFE_INTEGER, hint = '' } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer ≥ ${min}`) : `an integer from ${min} to ${max}`;
      this.problems.push(`${name} must be ${range}, got ${JSON.stringify(raw)}${hint}.`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false, got ${JSON.stringify(this.env[name])}.`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(this.env[name])}.`);
    return fallback;
  }

  /** A PostgreSQL URL with a user name: node-postgres otherwise fails later with "no PostgreSQL user name specified in startup packet". */
  postgresUrl(name: string): string | undefined {
    const raw = this.string(name);
    if (!raw) return undefined;
    const shape = `the form postgresql://USER:PASSWORD@HOST:5432/DATABASE`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      this.problems.push(`${name} is not a URL: set it to ${shape}.`);
      return undefined;
    }
    if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
      this.problems.push(`${name} must start with postgresql:// (got ${url.protocol}//): set it to ${shape}.`);
    } else if (!url.username) {
      this.problems.push(`${name} names no user: set it to ${shape}.`);
    } else if (!url.hostname && !url.searchParams.get('host')) {
      this.problems.push(`${name} names no host: set it to ${shape}.`);
    }
    return raw;
  }

  /** A schema of tenantgate's own: a plain lower-case identifier, not one PostgreSQL or the application already uses. */
  schemaName(name: string, fallback: string): string {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw) || /^pg_/.test(raw) || ['public', 'app', 'information_schema', 'graphile_worker'].includes(raw)) {
      this.problems.push(
        `${name} must be a lower-case identifier (letters, digits, _) naming a schema of tenantgate's own, not public, app, graphile_worker or a pg_ schema; got ${JSON.stringify(this.env[name])}.`,
      );
      return fallback;
    }
    return raw;
  }

  httpUrl(name: string): string | undefined {
    const raw = this.string(name);
    if (!raw) return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol === 'https:' || url.protocol === 'http:') return raw;
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be an http(s) URL, e.g. https://login.example.com/.well-known/jwks.json, got ${JSON.stringify(raw)}.`);
    return undefined;
  }

  cidrList(name: string): string[] {
    const entries = (this.env[name] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
    const bad = entries.filter((entry) => parseCidr(entry) === null);
    if (bad.length) this.problems.push(`${name} must be a comma-separated list of CIDRs; not valid: ${bad.join(', ')}.`);
    return entries;
  }
}

/** The shortest HS256 secret accepted in production: RFC 7518 §3.2 wants a key of at least the hash's size. */
export const MIN_PRODUCTION_SECRET_BYTES = 32;

/** Parses the whole environment once and reports every bad variable at once (a ConfigError). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = new Reader(env);
  const config: Config = {
    databaseUrl: read.postgresUrl('DATABASE_URL'),
    databaseAdminUrl: read.postgresUrl('DATABASE_ADMIN_URL'),
    databaseSchema: read.schemaName('DATABASE_SCHEMA', 'tenantgate'),
    // 0 asks the system for a free port (tests).
    port: read.integer('PORT', 4000, { min: 0, max: 65535, hint: ': set PORT to a free TCP port such as 4000' }),
    poolSize: read.integer('DATABASE_POOL_SIZE', 10),
    auth: {
      secret: env.JWT_SECRET || undefined,
      jwksUrl: read.httpUrl('JWT_JWKS_URL'),
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      production: env.NODE_ENV === 'production',
    },
    production: isProduction(env),
    development: env.NODE_ENV === 'development',
    dataDir: env.TENANTGATE_DATA_DIR || '.data',
    embeddedPort: read.integer('EMBEDDED_PG_PORT', 54329, { max: 65535, hint: ': set EMBEDDED_PG_PORT to a free TCP port such as 54329' }),
    trustedProxies: read.cidrList('TRUSTED_PROXIES'),
    paymentWebhookSecret: env.PAYMENT_WEBHOOK_SECRET || undefined,
    billingGraceDays: read.integer('BILLING_GRACE_DAYS', 14),
    dnsServers: (env.DNS_SERVERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'tenantgate <no-reply@localhost>',
    publicUrl: (env.PUBLIC_URL || `http://localhost:${env.PORT || 4000}`).replace(/\/+$/, ''),
    domainVerifyAllowPrivate: read.boolean('DOMAIN_VERIFY_ALLOW_PRIVATE', false),
    statementTimeoutMs: read.integer('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, { min: 0 }),
    idleInTransactionTimeoutMs: read.integer('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 15_000, { min: 0 }),
    organizationConcurrency: env.ORGANIZATION_CONCURRENCY ? read.integer('ORGANIZATION_CONCURRENCY', 1) : undefined,
    organizationQueue: read.integer('ORGANIZATION_QUEUE', 1_000, { min: 0 }),
    refusalCooldownMs: read.integer('REFUSAL_COOLDOWN_MS', 250, { min: 0 }),
    refusalsPerSecond: read.integer('REFUSALS_PER_SECOND', 10, { min: 0 }),
    organizationQueueWaitMs: read.integer('ORGANIZATION_QUEUE_WAIT_MS', 20_000),
    namedStatements: env.DATABASE_NAMED_STATEMENTS !== 'false',
    compiledReads: read.boolean('DATABASE_COMPILED_READS', true),
    jit: read.boolean('GRAPHQL_JIT', true),
    accessCacheSize: read.integer('ACCESS_CACHE_SIZE', 10_000, { min: 0 }),
    accessCacheMaxAgeMs: read.integer('ACCESS_CACHE_MAX_AGE_MS', 5_000, { min: 1 }),
    anonymousConcurrency: read.integer('ANONYMOUS_CONCURRENCY', 2),
    anonymousMaxTokens: read.integer('ANONYMOUS_MAX_TOKENS', 1_000),
    operationCostPerApiCall: read.integer('OPERATION_COST_PER_API_CALL', 1_000),
    maxRequestBodyBytes: read.integer('MAX_REQUEST_BODY_BYTES', 1_000_000),
    maxResponseBytes: read.integer('MAX_RESPONSE_BYTES', 10_000_000),
    storage: {
      url: env.STORAGE_URL || `${env.TENANTGATE_DATA_DIR || '.data'}/storage`,
      signingSecret: env.STORAGE_SIGNING_SECRET || undefined,
      urlTtlSeconds: read.integer('STORAGE_URL_TTL_SECONDS', 300),
      s3: {
        region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
        endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
        accessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
        // An S3-compatible store at an endpoint of its own rarely has bucket subdomains.
        forcePathStyle: env.S3_FORCE_PATH_STYLE ? env.S3_FORCE_PATH_STYLE === 'true' : Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
      },
    },
    inProcessWorker: read.boolean('EVENTS_WORKER', true),
    events: {
      ...defaultEventWorkerConfig,
      concurrency: read.integer('EVENTS_CONCURRENCY', defaultEventWorkerConfig.concurrency),
      maxAttempts: read.integer('EVENTS_MAX_ATTEMPTS', defaultEventWorkerConfig.maxAttempts),
      retryBaseMs: read.integer('EVENTS_RETRY_BASE_MS', defaultEventWorkerConfig.retryBaseMs),
      timeoutMs: read.integer('WEBHOOK_TIMEOUT_MS', defaultEventWorkerConfig.timeoutMs),
      allowPrivateAddresses: read.boolean('WEBHOOK_ALLOW_PRIVATE_ADDRESSES', false),
      datadogSite: env.DD_SITE || defaultEventWorkerConfig.datadogSite,
      // The platform's alerts (high-severity security.access_denied, docs/adr/0061-access-denials.md); delivered with the SSRF guard.
      securityAlertWebhookUrl: read.httpUrl('SECURITY_ALERT_WEBHOOK_URL'),
    },
    operations: loadOperationsConfig(read, isProduction(env)),
  };
  if (config.production && config.auth.secret && !config.auth.jwksUrl && Buffer.byteLength(config.auth.secret) < MIN_PRODUCTION_SECRET_BYTES) {
    read.problems.push(
      `JWT_SECRET is ${Buffer.byteLength(config.auth.secret)} bytes; production needs at least ${MIN_PRODUCTION_SECRET_BYTES}: ` +
        `generate one with \`openssl rand -base64 48\`.`,
    );
  }
  if (read.problems.length) throw new ConfigError(read.problems);
  return config;
}

// ---- Operations (issue 17): listening, logs, metrics, traces, shutdown -------------------------

function loadOperationsConfig(read: Reader, production: boolean): OperationsConfig {
  return {
    host: read.string('HOST') ?? '127.0.0.1',
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: read.oneOf('LOG_FORMAT', ['json', 'pretty'] as const, production ? 'json' : 'pretty'),
    graphiql: read.boolean('GRAPHIQL', !production),
    demoSignIn: !production,
    drainMs: read.integer('SHUTDOWN_DRAIN_MS', 10_000, { min: 0, max: 600_000 }),
    metrics: read.boolean('METRICS', true),
    metricsOrganizationLabels: read.integer('METRICS_ORGANIZATION_LABELS', 0, { min: 0, max: 100 }),
    otlpEndpoint: read.httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: read.string('OTEL_SERVICE_NAME') ?? 'tenantgate',
  };
}
