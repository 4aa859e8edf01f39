import { existsSync } from 'node:fs';
import type { AuthConfig } from './auth/tokens';
import { parseCidr } from './settings';

/** Everything the gateway reads from the environment; documented in the README. */
export interface Config {
  /** Runtime connection: a role that is not superuser, owns no table, has no BYPASSRLS. Unset: embedded PostgreSQL. */
  databaseUrl?: string;
  /** Owner role, for migrations, the demo seed and platform jobs. */
  databaseAdminUrl?: string;
  /** @default 4000 */
  port: number;
  /** Connections in the runtime pool. @default 10 */
  poolSize: number;
  auth: AuthConfig;
  production: boolean;
  /** Where the embedded PostgreSQL keeps its data. @default .data */
  dataDir: string;
  /** Port of the embedded PostgreSQL. @default 54329 */
  embeddedPort: number;
  /** Proxies whose X-Forwarded-For is believed (CIDRs). @default none: the socket address is the client */
  trustedProxies: string[];
  /** HMAC-SHA256 secret of `POST /webhooks/payments`. @default none: no payment webhook */
  paymentWebhookSecret?: string;
  operations: OperationsConfig;
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
  const production = env.NODE_ENV === 'production';
  const config: Config = {
    databaseUrl: read.postgresUrl('DATABASE_URL'),
    databaseAdminUrl: read.postgresUrl('DATABASE_ADMIN_URL'),
    // 0 asks the system for a free port (tests).
    port: read.integer('PORT', 4000, { min: 0, max: 65535, hint: ': set PORT to a free TCP port such as 4000' }),
    poolSize: read.integer('DATABASE_POOL_SIZE', 10),
    auth: {
      secret: read.string('JWT_SECRET'),
      jwksUrl: read.httpUrl('JWT_JWKS_URL'),
      issuer: read.string('JWT_ISSUER'),
      audience: read.string('JWT_AUDIENCE'),
    },
    production,
    dataDir: env.TENANTGATE_DATA_DIR || '.data',
    embeddedPort: read.integer('EMBEDDED_PG_PORT', 54329, { max: 65535, hint: ': set EMBEDDED_PG_PORT to a free TCP port such as 54329' }),
    trustedProxies: read.cidrList('TRUSTED_PROXIES'),
    paymentWebhookSecret: read.string('PAYMENT_WEBHOOK_SECRET'),
    operations: loadOperationsConfig(read, production),
  };
  if (production && config.auth.secret && !config.auth.jwksUrl && Buffer.byteLength(config.auth.secret) < MIN_PRODUCTION_SECRET_BYTES) {
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
