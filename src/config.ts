import type { AuthConfig } from './auth/tokens';
import { defaultEventWorkerConfig, type EventWorkerConfig } from './events/config';
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
  /** Run the event worker inside `npm start` (EVENTS_WORKER=off when `npm run worker` runs it apart). @default true */
  inProcessWorker: boolean;
  /** The event worker: deliveries, retries, the SSRF guard, integrations (src/events/worker.ts). */
  events: EventWorkerConfig;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new Error(`${name} must be on or off, got ${JSON.stringify(raw)}`);
}

function cidrList(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (env[name] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((entry) => parseCidr(entry) === null);
  if (bad.length) throw new Error(`${name} must be a comma-separated list of CIDRs; not valid: ${bad.join(', ')}`);
  return entries;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    databaseAdminUrl: env.DATABASE_ADMIN_URL || undefined,
    port: integer(env, 'PORT', 4000),
    poolSize: integer(env, 'DATABASE_POOL_SIZE', 10),
    auth: {
      secret: env.JWT_SECRET || undefined,
      jwksUrl: env.JWT_JWKS_URL || undefined,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    },
    production: env.NODE_ENV === 'production',
    dataDir: env.TENANTGATE_DATA_DIR || '.data',
    embeddedPort: integer(env, 'EMBEDDED_PG_PORT', 54329),
    trustedProxies: cidrList(env, 'TRUSTED_PROXIES'),
    paymentWebhookSecret: env.PAYMENT_WEBHOOK_SECRET || undefined,
    inProcessWorker: flag(env, 'EVENTS_WORKER', true),
    events: {
      ...defaultEventWorkerConfig,
      concurrency: integer(env, 'EVENTS_CONCURRENCY', defaultEventWorkerConfig.concurrency),
      maxAttempts: integer(env, 'EVENTS_MAX_ATTEMPTS', defaultEventWorkerConfig.maxAttempts),
      retryBaseMs: integer(env, 'EVENTS_RETRY_BASE_MS', defaultEventWorkerConfig.retryBaseMs),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', defaultEventWorkerConfig.timeoutMs),
      allowPrivateAddresses: flag(env, 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES', false),
      datadogSite: env.DD_SITE || defaultEventWorkerConfig.datadogSite,
      securityAlertWebhookUrl: env.SECURITY_ALERT_WEBHOOK_URL || undefined,
    },
  };
}
