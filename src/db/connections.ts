import type { AuthConfig } from '../auth/tokens';
import type { Config } from '../config';
import { readGatewayState } from '../ops/state-file';
import { localCredentials, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded';
import { assertBuiltSchema } from './schemas';

/**
 * Where the gateway and the scripts find PostgreSQL and the token secret:
 * DATABASE_URL / DATABASE_ADMIN_URL when set, else the embedded PostgreSQL in
 * `.data/` (started here, or the one a running gateway already serves).
 */
export interface Connections {
  runtimeUrl: string;
  /** Undefined when DATABASE_URL is set without DATABASE_ADMIN_URL: no migrations then. */
  adminUrl?: string;
  embedded?: EmbeddedDatabase;
  auth: AuthConfig;
  /** Says where the database is, for the start-up banner. */
  description: string;
}

export interface ResolveOptions {
  onLog?: (line: string) => void;
  onNotice?: (message: string) => void;
  /** See EmbeddedOptions.role. @default script */
  role?: 'gateway' | 'script';
}

export async function resolveConnections(config: Config, options: ResolveOptions = {}): Promise<Connections> {
  // Before anything connects: DATABASE_SCHEMA and the generated client must agree on tenantgate's schema.
  assertBuiltSchema(config.databaseSchema);
  const auth = await resolveAuth(config);
  if (config.databaseUrl) {
    return {
      runtimeUrl: config.databaseUrl,
      adminUrl: config.databaseAdminUrl,
      auth,
      description: 'PostgreSQL from DATABASE_URL',
    };
  }
  const role = options.role ?? 'script';
  // A script beside a running gateway uses that gateway's database, whatever EMBEDDED_PG_PORT says here.
  const port = (role === 'script' && readGatewayState(config.dataDir)?.embeddedPort) || config.embeddedPort;
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port, onLog: options.onLog, onNotice: options.onNotice, role });
  return {
    runtimeUrl: embedded.runtimeUrl,
    adminUrl: embedded.adminUrl,
    embedded,
    auth,
    description: `embedded PostgreSQL on 127.0.0.1:${port} (data in ${config.dataDir}/postgres)`,
  };
}

/**
 * JWT_JWKS_URL or JWT_SECRET when set. Otherwise, outside production, a secret
 * generated once into `.data/credentials.json`, shared by the gateway and
 * `npm run token`.
 */
export async function resolveAuth(config: Config): Promise<AuthConfig> {
  if (config.auth.jwksUrl || config.auth.secret) return config.auth;
  if (config.production) {
    throw new Error('NODE_ENV=production needs JWT_JWKS_URL (an identity provider) or JWT_SECRET; refusing to use a generated development secret.');
  }
  const { jwtSecret } = await localCredentials(config.dataDir);
  return { ...config.auth, secret: jwtSecret };
}
