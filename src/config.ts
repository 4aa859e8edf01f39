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
  storage: StorageConfig;
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
    storage: {
      url: env.STORAGE_URL || `${env.TENANTGATE_DATA_DIR || '.data'}/storage`,
      signingSecret: env.STORAGE_SIGNING_SECRET || undefined,
      urlTtlSeconds: integer(env, 'STORAGE_URL_TTL_SECONDS', 300),
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
  };
}
