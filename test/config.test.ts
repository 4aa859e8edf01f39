import { ConfigError, loadConfig } from '../src/config';
import { explainDatabaseError, explainListenError } from '../src/ops/startup-errors';

/** Each configuration mistake is one line that names its variable and what to do. */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

it('accepts an empty environment with development defaults', () => {
  const config = loadConfig({});
  expect(config.port).toBe(4000);
  expect(config.operations).toMatchObject({ host: '127.0.0.1', graphiql: true, demoSignIn: true, logFormat: 'pretty', logLevel: 'info', drainMs: 10_000, metrics: true, metricsOrganizationLabels: 0 });
  expect(config.operations.otlpEndpoint).toBeUndefined();
});

it('turns GraphiQL and demo sign-ins off in production, logs JSON, and GRAPHIQL=true turns GraphiQL back on', () => {
  const secret = 'x'.repeat(32);
  expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).operations).toMatchObject({ graphiql: false, demoSignIn: false, logFormat: 'json' });
  expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, GRAPHIQL: 'true' }).operations).toMatchObject({ graphiql: true, demoSignIn: false });
});

it.each([
  [{ PORT: '70000' }, /^PORT must be an integer from 0 to 65535, got "70000": set PORT to a free TCP port/],
  [{ PORT: 'abc' }, /^PORT must be/],
  [{ EMBEDDED_PG_PORT: '-1' }, /^EMBEDDED_PG_PORT must be .* set EMBEDDED_PG_PORT/],
  [{ DATABASE_URL: 'postgresql://localhost/tenantgate' }, /^DATABASE_URL names no user: set it to the form postgresql:\/\/USER:PASSWORD@HOST/],
  [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a URL/],
  [{ DATABASE_ADMIN_URL: 'mysql://u:p@h/db' }, /^DATABASE_ADMIN_URL must start with postgresql:\/\//],
  [{ JWT_JWKS_URL: 'login.example.com/jwks' }, /^JWT_JWKS_URL must be an http\(s\) URL/],
  [{ NODE_ENV: 'production', JWT_SECRET: 'x' }, /^JWT_SECRET is 1 bytes; production needs at least 32: generate one/],
  [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
  [{ GRAPHIQL: 'maybe' }, /^GRAPHIQL must be true or false/],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/],
  [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /^TRUSTED_PROXIES must be a comma-separated list of CIDRs/],
])('%j is refused with one line naming the variable', (env, message) => {
  const lines = problems(env);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).not.toMatch(/\n/);
});

it('reports every bad variable at once', () => {
  expect(problems({ PORT: '70000', DATABASE_URL: 'x', LOG_LEVEL: 'loud' }).map((l) => l.split(' ')[0])).toEqual(['DATABASE_URL', 'PORT', 'LOG_LEVEL']);
});

it('accepts a short JWT_SECRET outside production (tests, development), and PORT=0 (any free port)', () => {
  expect(loadConfig({ JWT_SECRET: 'x', PORT: '0' }).port).toBe(0);
});

it.each([
  [{ code: 'ECONNREFUSED' }, /^DATABASE_URL: nothing answers at db.internal:6543 \(ECONNREFUSED\): start PostgreSQL there, or fix the host and port in DATABASE_URL\.$/],
  [{ code: 'ENOTFOUND' }, /^DATABASE_URL: the host of PostgreSQL at db.internal:6543 is not found/],
  [{ code: '28P01' }, /refused the user or password \(28P01\): fix the credentials in DATABASE_URL/],
  [{ code: '3D000' }, /no such database \(3D000\)/],
])('a connection error %j names DATABASE_URL', (error, message) => {
  expect(explainDatabaseError(error, 'DATABASE_URL', 'postgresql://u:secret@db.internal:6543/app')).toMatch(message);
  expect(explainDatabaseError(error, 'DATABASE_URL', 'postgresql://u:secret@db.internal:6543/app')).not.toContain('secret');
});

it('a taken port names PORT', () => {
  expect(explainListenError(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), '127.0.0.1', 4000)).toBe(
    'PORT 4000 on 127.0.0.1 is taken by another program (EADDRINUSE): stop it, or set PORT to a free port.',
  );
});

it('SECURITY_ALERT_WEBHOOK_URL: an http(s) URL, or the variable is named as wrong', () => {
  expect(loadConfig({ SECURITY_ALERT_WEBHOOK_URL: 'https://alerts.example.com/tenantgate' }).events.securityAlertWebhookUrl).toBe('https://alerts.example.com/tenantgate');
  expect(loadConfig({}).events.securityAlertWebhookUrl).toBeUndefined();
  expect(problems({ SECURITY_ALERT_WEBHOOK_URL: 'alerts.example.com' })).toEqual([expect.stringMatching(/^SECURITY_ALERT_WEBHOOK_URL must be an http\(s\) URL/)]);
  expect(problems({ SECURITY_ALERT_WEBHOOK_URL: 'ftp://alerts.example.com/' })).toHaveLength(1);
});

it('DATABASE_SCHEMA: tenantgate by default; a plain identifier of its own, never public, app or a pg_ schema', () => {
  expect(loadConfig({}).databaseSchema).toBe('tenantgate');
  expect(loadConfig({ DATABASE_SCHEMA: 'gateway' }).databaseSchema).toBe('gateway');
  for (const bad of ['public', 'app', 'pg_gateway', 'Tenant Gate', 'graphile_worker']) {
    expect(problems({ DATABASE_SCHEMA: bad })).toEqual([expect.stringMatching(/^DATABASE_SCHEMA must be a lower-case identifier .* schema of tenantgate's own/)]);
  }
});
