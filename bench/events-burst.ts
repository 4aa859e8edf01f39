/**
 * npm run bench:events: a burst of 10,000 events, each delivered to a signed
 * webhook on a local receiver, on a fresh database of the local PostgreSQL
 * (BENCH_DATABASE_SERVER_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
 * Prints the time from the commit of the burst to the last acknowledged delivery.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createDatabase } from '../src/db/client';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { withDatabase } from '../test/setup/database';
import { startEventWorker } from '../src/events/worker';
import { withSearchPath } from '../src/db/schemas';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const server = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function main() {
  const database = `tenantgate_bench_events_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const adminUrl = withDatabase(server, database);
  const runtimeUrl = withDatabase(server, database, { user: 'tenantgate_bench_events_app', password: 'tenantgate_bench_events_app' });
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const runtime = createDatabase({ url: runtimeUrl, max: 2 });
  const pool = new pg.Pool({ connectionString: withSearchPath(adminUrl), max: 2 });
  pool.on('error', () => undefined);
  try {
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO organizations (id, slug, name, updated_at, settings) VALUES (gen_random_uuid(), 'burst', 'Burst', now(), '{"features": {"webhooks": true}}') RETURNING id`,
    );
    const org = rows[0].id;
    await pool.query(`INSERT INTO webhook_endpoints (organization_id, url, event_types, secret) VALUES ($1, $2, '{project.created}', $3)`, [
      org, url, `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    ]);
    const worker = await startEventWorker({ adminUrl, runtime, config: { allowPrivateAddresses: true, concurrency: Number(process.env.EVENTS_CONCURRENCY ?? 20) } });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await pool.query(
      `SELECT app.record_event($1::uuid, 'project.created', 'project', gen_random_uuid()::text, jsonb_build_object('n', n), false) FROM generate_series(1, $2) n`,
      [org, EVENTS],
    );
    const committed = performance.now();
    for (;;) {
      const { rows: done } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'SUCCEEDED'`);
      if (done[0].n >= EVENTS) break;
      if (performance.now() - started > 300_000) throw new Error(`only ${done[0].n} of ${EVENTS} delivered in 5 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const finished = performance.now();
    await worker.stop();
    const seconds = (finished - committed) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const load = (await import('node:os')).loadavg()[0];
    console.log(`events: ${EVENTS}, recorded in ${((committed - started) / 1000).toFixed(2)} s (one transaction)`);
    console.log(`delivered (signed POST acknowledged, delivery row SUCCEEDED): ${EVENTS} in ${seconds.toFixed(1)} s = ${Math.round(EVENTS / seconds)} deliveries/s; receiver saw ${received}`);
    console.log(`worker process CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; machine load average (1 min) at the end: ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
    console.log(`within a minute: ${seconds <= 60 ? 'yes' : 'NO'}`);
  } finally {
    receiver.close();
    await runtime.close();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
