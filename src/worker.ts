import { loadConfig } from './config';
import { createDatabase } from './db/client';
import { resolveConnections } from './db/connections';
import { assertRuntimeRole, assertRuntimeSearchPath } from './db/runtime-role';
import { startEventWorker } from './events/worker';

/**
 * `npm run worker`: the event worker as a process of its own (run the gateway
 * with EVENTS_WORKER=off then). Any number may run: graphile-worker's locks and
 * the relay's SKIP LOCKED share the work out. Needs DATABASE_ADMIN_URL (the
 * owner role reads every organization's outbox) and DATABASE_URL (handlers'
 * tenant clients).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const connections = await resolveConnections(config);
  if (!connections.adminUrl) throw new Error('the event worker needs DATABASE_ADMIN_URL');
  const db = createDatabase({ url: connections.runtimeUrl, max: 4, applicationName: 'tenantgate-worker-runtime' });
  await assertRuntimeRole(db.pool);
  await assertRuntimeSearchPath(db.pool, config.databaseSchema);
  const worker = await startEventWorker({ adminUrl: connections.adminUrl, runtime: db, config: config.events, onLog: (line) => console.log(line) });
  console.log(`tenantgate event worker running (${connections.description}, concurrency ${config.events.concurrency})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the event worker…`);
    await worker.stop();
    await db.close();
    if (connections.embedded?.startedHere) await connections.embedded.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
}

main().catch((error: Error) => {
  console.error(`the event worker could not start: ${error.message}`);
  process.exit(1);
});
