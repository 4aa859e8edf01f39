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
  /** HMAC-SHA256 secret of `POST /webhooks/payments`. @default none: no payment webhook */
  paymentWebhookSecret?: string;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function cidrList(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (env[name] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((entry) => parseCidr(entry) === null);
  if (bad.length) throw new Error(`${name} must be a comma-separated list of CIDRs; not valid: ${bad.join(', ')}`);
  return entries;
}

/** NODE_ENV=production, for what is decided at module load (src/builder.ts) before the configuration is loaded. */
export function isProduction(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'production';
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
      production: env.NODE_ENV === 'production',
    },
    production: isProduction(env),
    development: env.NODE_ENV === 'development',
    dataDir: env.TENANTGATE_DATA_DIR || '.data',
    embeddedPort: integer(env, 'EMBEDDED_PG_PORT', 54329),
    trustedProxies: cidrList(env, 'TRUSTED_PROXIES'),
    paymentWebhookSecret: env.PAYMENT_WEBHOOK_SECRET || undefined,
    billingGraceDays: integer(env, 'BILLING_GRACE_DAYS', 14),
  };
}
