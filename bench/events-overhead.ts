/**
 * npm run bench:events-overhead: what recording events, audit entries and
 * denials costs the gateway (issue 16's target: within 5%). In ONE run, on a
 * fresh database of the local PostgreSQL, in-process (Yoga's fetch, no HTTP):
 * `createProject` and `projects(first: 20)` at BENCH_CONCURRENCY concurrent
 * requests, "on" (the event triggers enabled, the gateway recording denials)
 * against "off" (ALTER TABLE ... DISABLE TRIGGER emit_events on the tables
 * these requests write, a gateway built with `accessDenials: false`).
 *
 * Rounds alternate on/off and off/on (ABBA), so that a drift of the machine
 * during the run falls on both sides alike; each round measures every
 * scenario BENCH_SECONDS long in each mode. It prints each scenario's median
 * requests per second on and off, the rounds' values, and the ratio of the
 * medians (on/off; 0.95 or more meets the target).
 *
 *   BENCH_ROUNDS=6 BENCH_SECONDS=10 npm run bench:events-overhead     (quiet machine)
 *   BENCH_ROUNDS=2 BENCH_SECONDS=1 npm run bench:events-overhead      (a check that it runs)
 */
import os from 'node:os';
import pg from 'pg';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { withDatabase } from '../test/setup/database';
import { createSystemDatabase } from '../src/db/system';
import { createOrganization } from '../src/platform/organizations';
import { createGateway, type Gateway } from '../src/yoga';
import { median } from './rounds';

const server = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const SECRET = 'bench-secret-that-is-long-enough-for-hs256';
/** The tables whose triggers these requests fire (projects: createProject's event). */
const EVENTED = ['projects'];

async function main() {
  if (!(ROUNDS >= 1 && SECONDS > 0 && CONCURRENCY >= 1)) throw new Error('BENCH_ROUNDS >= 1, BENCH_SECONDS > 0 and BENCH_CONCURRENCY >= 1, please');
  // Names of this run only: the database and the runtime role are dropped at the end.
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const database = `tenantgate_bench_evoff_${suffix}`;
  const role = `tenantgate_bench_evoff_${suffix}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const adminUrl = withDatabase(server, database);
  const runtimeUrl = withDatabase(server, database, { user: role, password: role });
  const gateways: Gateway[] = [];
  try {
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    const system = createSystemDatabase(adminUrl);
    const org = await createOrganization(system, { slug: 'bench-events', name: 'Bench' });
    const user = await system.prisma.user.create({ data: { email: 'owner@bench.example', name: 'Owner' } });
    await system.prisma.membership.create({ data: { organizationId: org.id, userId: user.id, role: 'OWNER' } });
    await system.pool.query(`UPDATE plan_limits SET "limit" = NULL WHERE resource = 'PROJECTS'`);
    await system.pool.query(`INSERT INTO quota_overrides (organization_id, resource, "limit") VALUES ($1, 'PROJECTS', NULL) ON CONFLICT DO NOTHING`, [org.id]);
    const token = await signToken({ secret: SECRET, userId: user.id, organizationId: org.id, expiresIn: '2h' });
    const db = createDatabase({ url: runtimeUrl, max: 10 });
    const verifyToken = createTokenVerifier({ secret: SECRET });
    // The same build; "off" records no denial (there is none on this path: it shows that nothing else is paid either).
    const on = createGateway({ db, verifyToken, logging: false, graphiql: false, usage: false });
    const off = createGateway({ db, verifyToken, logging: false, graphiql: false, usage: false, accessDenials: false });
    gateways.push(on, off);
    const send = (gateway: Gateway, query: string, variables?: unknown) =>
      Promise.resolve(gateway.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': 'bench/1' },
        body: JSON.stringify({ query, variables }),
      })).then(async (r) => {
        const body = await r.text();
        if (body.includes('"errors"')) throw new Error(body);
      });
    const scenarios: Record<string, (gateway: Gateway) => Promise<void>> = {
      createProject: (g) => send(g, 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }', { input: { name: 'Bench' } }),
      'projects(first: 20)': (g) => send(g, '{ projects(first: 20) { edges { node { id name status } } } }'),
    };
    const setMode = async (events: boolean) => {
      for (const table of EVENTED) await system.pool.query(`ALTER TABLE ${table} ${events ? 'ENABLE' : 'DISABLE'} TRIGGER emit_events`);
      return events ? on : off;
    };
    const run = async (fn: () => Promise<void>) => {
      let done = 0;
      const until = performance.now() + SECONDS * 1000;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          await fn();
          done += 1;
        }
      }));
      return done / SECONDS;
    };
    // Warm-up: plans cached, clients made, in both modes.
    for (const events of [true, false]) {
      const gateway = await setMode(events);
      for (let i = 0; i < 30; i += 1) for (const fn of Object.values(scenarios)) await fn(gateway);
    }
    const results: Record<string, { on: number[]; off: number[] }> = {};
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const events of round % 2 === 0 ? [true, false] : [false, true]) {
        const gateway = await setMode(events);
        for (const [name, fn] of Object.entries(scenarios)) {
          const rate = await run(() => fn(gateway));
          (results[name] ??= { on: [], off: [] })[events ? 'on' : 'off'].push(rate);
        }
      }
    }
    await setMode(true);
    console.log(`events overhead: ${ROUNDS} rounds (on/off alternating) x ${SECONDS} s per scenario and mode, ${CONCURRENCY} concurrent requests, in-process`);
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    for (const [name, { on: withEvents, off: without }] of Object.entries(results)) {
      const ratio = median(withEvents) / median(without);
      console.log(
        `${name}: on ${median(withEvents).toFixed(1)} req/s median [${fmt(withEvents)}], off ${median(without).toFixed(1)} req/s median [${fmt(without)}], ` +
          `on/off ${ratio.toFixed(3)} (${ratio >= 0.95 ? 'within' : 'NOT within'} 5%)`,
      );
    }
    console.log(`machine load average (1 min) at the end: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    for (const gateway of gateways) await gateway.dispose();
    await db.close();
    await system.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch((error) => console.error(`could not drop role ${role}:`, error));
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
