/**
 * npx tsx bench/opening-ab.ts [iterations]
 *
 * What a query's transaction costs PostgreSQL and Node when its access check is
 * remembered, opened two ways, each followed by the same named page and COMMIT,
 * written in one go on a pipelining connection:
 *  - simple: `BEGIN READ ONLY; SET LOCAL ×5; SELECT version …` as one simple-protocol message
 *  - prepared: `BEGIN READ ONLY`, a named `SELECT set_config(…) ×5`, a named version read
 * Connections as the bench runtime role, taken in turn (order alternating); the
 * backend's CPU from /proc/<pid>/schedstat, Node's from process.cpuUsage().
 */
import './env';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { benchUrls } from './database';
import { withSearchPath } from '../src/db/schemas';
import { PAGE } from './best-bare';

const { adminUrl, runtimeUrl } = benchUrls();
const cpu = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e3; // µs
async function conn() {
  const c = new pg.Client({ connectionString: runtimeUrl, pipeline: true } as pg.ClientConfig);
  await c.connect();
  const { rows: [{ pid }] } = await c.query('SELECT pg_backend_pid() pid');
  return { c, pid };
}
const q = (c: pg.Client, config: string | pg.QueryConfig) => c.query(config);
async function main() {
  const admin = new pg.Client(withSearchPath(adminUrl)); await admin.connect();
  const { rows: [o] } = await admin.query(`SELECT m.organization_id, m.user_id FROM memberships m LIMIT 1`);
  await admin.end();
  const org: string = o.organization_id, user: string = o.user_id;
  const SCOPE = `SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true), set_config('app.current_member_role', $3, true), set_config('app.current_department_path', $4, true), set_config('plan_cache_mode', 'force_generic_plan', true)`;
  const VERSION = `SELECT version::text FROM access_versions WHERE organization_id = $1::uuid`;
  const page = { ...PAGE, values: [org, 20] };
  const variants: Record<string, (c: pg.Client) => Promise<unknown>> = {
    simple: (c) => Promise.all([
      q(c, `BEGIN READ ONLY; SET LOCAL app.current_org_id = '${org}'; SET LOCAL app.current_user_id = '${user}'; SET LOCAL app.current_member_role = 'MEMBER'; SET LOCAL app.current_department_path = ''; SET LOCAL plan_cache_mode = force_generic_plan; SELECT version::text FROM access_versions WHERE organization_id = '${org}'::uuid`),
      q(c, page), q(c, 'COMMIT')]),
    prepared: (c) => Promise.all([
      q(c, 'BEGIN READ ONLY'),
      q(c, { name: 'ab_scope', text: SCOPE, values: [org, user, 'MEMBER', ''] }),
      q(c, { name: 'ab_version', text: VERSION, values: [org] }),
      q(c, page), q(c, 'COMMIT')]),
    'prepared, no version read': (c) => Promise.all([
      q(c, 'BEGIN READ ONLY'),
      q(c, { name: 'ab_scope', text: SCOPE, values: [org, user, 'MEMBER', ''] }),
      q(c, page), q(c, 'COMMIT')]),
  };
  const names = Object.keys(variants);
  const conns = await Promise.all(names.map(conn));
  const N = Number(process.argv[2] ?? 10000);
  const be = names.map(() => 0), node = names.map(() => 0);
  for (let i = 0; i < N + 500; i++) {
    const order = i % 2 ? [...names.keys()].reverse() : [...names.keys()];
    for (const k of order) {
      const { c, pid } = conns[k];
      const t = cpu(pid); const u = process.cpuUsage();
      await variants[names[k]](c);
      const d = process.cpuUsage(u);
      if (i >= 500) { node[k] += d.user + d.system; be[k] += cpu(pid) - t; }
    }
  }
  names.forEach((n, k) => console.log(`${n}: backend ${(be[k] / N).toFixed(1)} µs/req, node ${(node[k] / N).toFixed(1)} µs/req`));
  process.exit(0);
}
main();
