/**
 * npm run bench:events-overhead: what recording events and audit entries costs
 * the gateway. In-process (Yoga's fetch, no HTTP), on a fresh database of the
 * local PostgreSQL: `createProject` and `projects(first: 20)` at 10 concurrent
 * requests, with the event triggers enabled and disabled
 * (ALTER TABLE ... DISABLE TRIGGER emit_events), alternating, 4 rounds of 5 s.
 */
import pg from 'pg';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { withDatabase } from '../test/setup/database';
import { createSystemDatabase } from '../src/db/system';
import { createOrganization } from '../src/platform/organizations';
import { createGateway } from '../src/yoga';

const server = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 10;
const SECRET = 'bench-secret-that-is-long-enough-for-hs256';

async function main() {
  const database = `tenantgate_bench_evoff_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const adminUrl = withDatabase(server, database);
  const runtimeUrl = withDatabase(server, database, { user: 'tenantgate_bench_events_app', password: 'tenantgate_bench_events_app' });
  try {
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    const system = createSystemDatabase(adminUrl);
    const org = await createOrganization(system, { slug: 'bench-events', name: 'Bench' });
    const user = await system.prisma.user.create({ data: { email: 'owner@bench.example', name: 'Owner' } });
    await system.prisma.membership.create({ data: { organizationId: org.id, userId: user.id, role: 'OWNER' } });
    await system.pool.query(`UPDATE plan_limits SET "limit" = NULL WHERE resource = 'PROJECTS'`);
    await system.pool.query(`INSERT INTO quota_overrides (organization_id, resource, "limit") VALUES ($1, 'PROJECTS', NULL) ON CONFLICT DO NOTHING`, [org.id]);
    const token = await signToken({ secret: SECRET, userId: user.id, organizationId: org.id, expiresIn: '1h' });
    const db = createDatabase({ url: runtimeUrl, max: 10 });
    const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: SECRET }), logging: false, graphiql: false, usage: false });
    const send = (query: string, variables?: unknown) =>
      Promise.resolve(gateway.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': 'bench/1' },
        body: JSON.stringify({ query, variables }),
      })).then(async (r) => {
        const body = await r.text();
        if (body.includes('"errors"')) throw new Error(body);
      });
    const scenarios = {
      createProject: () => send('mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }', { input: { name: 'Bench' } }),
      'projects(first: 20)': () => send('{ projects(first: 20) { edges { node { id name status } } } }'),
    };
    const setTriggers = (on: boolean) =>
      system.pool.query(`ALTER TABLE projects ${on ? 'ENABLE' : 'DISABLE'} TRIGGER emit_events`);
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
    for (let i = 0; i < 50; i += 1) await scenarios['projects(first: 20)']();
    const results: Record<string, { on: number[]; off: number[] }> = {};
    for (let round = 0; round < 4; round += 1) {
      for (const on of round % 2 === 0 ? [true, false] : [false, true]) {
        await setTriggers(on);
        for (const [name, fn] of Object.entries(scenarios)) {
          const rate = await run(fn);
          (results[name] ??= { on: [], off: [] })[on ? 'on' : 'off'].push(rate);
        }
      }
    }
    await setTriggers(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const [name, { on, off }] of Object.entries(results)) {
      console.log(`${name}: events on ${mean(on).toFixed(0)} req/s [${on.map((x) => x.toFixed(0)).join(', ')}], off ${mean(off).toFixed(0)} req/s [${off.map((x) => x.toFixed(0)).join(', ')}], on/off ${(mean(on) / mean(off)).toFixed(3)}`);
    }
    const load = (await import('node:os')).loadavg()[0];
    console.log(`machine load average (1 min): ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores (shared with other helpers)`);
    await gateway.dispose();
    await db.close();
    await system.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
