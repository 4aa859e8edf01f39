/**
 * npx tsx bench/opening-ab.ts [iterations]
 *
 * Issue 18, ADR 0100: what a query's transaction costs PostgreSQL and Node when
 * its access check is remembered, opened four ways, each followed by the same
 * named page and COMMIT, all written at once on a pipelining connection:
 *  - simple: `BEGIN READ ONLY; SET LOCAL ×5; SELECT version …` as one simple-protocol
 *    message (the gateway before ADR 0100: the SELECT parsed, analyzed and planned every time)
 *  - prepared version: `BEGIN READ ONLY; SET LOCAL ×5` and the version read as a
 *    named prepared statement (the gateway since ADR 0100)
 *  - set_config: `BEGIN READ ONLY` and one named statement of five set_config()
 *    calls and the version read as a scalar subquery (not kept: SET LOCAL is what Citus forwards)
 *  - no version: `BEGIN READ ONLY` and a named set_config() statement (best-bare's opening)
 * Connections as the bench runtime role, taken in turn (order alternating); the
 * backend's CPU from /proc/<pid>/schedstat, Node's from process.cpuUsage(). Needs
 * the bench database (`npm run bench` once) on the local server.
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
  const settings = `SET LOCAL app.current_org_id = '${org}'; SET LOCAL app.current_user_id = '${user}'; SET LOCAL app.current_member_role = 'MEMBER'; SET LOCAL app.current_department_path = ''; SET LOCAL plan_cache_mode = force_generic_plan`;
  const VERSION = `SELECT version::text FROM access_versions WHERE organization_id = $1::uuid`;
  const SET_CONFIG = `SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true), set_config('app.current_member_role', $3, true), set_config('app.current_department_path', $4, true), set_config('plan_cache_mode', 'force_generic_plan', true)`;
  const page = { ...PAGE, values: [org, 20] };
  const variants: Record<string, (c: pg.Client) => Promise<unknown>> = {
    simple: (c) => Promise.all([q(c, `BEGIN READ ONLY; ${settings}; SELECT version::text FROM access_versions WHERE organization_id = '${org}'::uuid`), q(c, page), q(c, 'COMMIT')]),
    'prepared version': (c) => Promise.all([q(c, `BEGIN READ ONLY; ${settings}`), q(c, { name: 'ab_version', text: VERSION, values: [org] }), q(c, page), q(c, 'COMMIT')]),
    'set_config': (c) => Promise.all([q(c, 'BEGIN READ ONLY'), q(c, { name: 'ab_both', text: `${SET_CONFIG}, (${VERSION}) AS version`, values: [org, user, 'MEMBER', ''] }), q(c, page), q(c, 'COMMIT')]),
    'no version': (c) => Promise.all([q(c, 'BEGIN READ ONLY'), q(c, { name: 'ab_scope', text: SET_CONFIG, values: [org, user, 'MEMBER', ''] }), q(c, page), q(c, 'COMMIT')]),
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
      // The first 500 are a warm-up (each connection prepares its statements once).
      if (i >= 500) { node[k] += d.user + d.system; be[k] += cpu(pid) - t; }
    }
  }
  names.forEach((n, k) => console.log(`${n}: backend ${(be[k] / N).toFixed(1)} µs/req, node ${(node[k] / N).toFixed(1)} µs/req`));
  process.exit(0);
}
main();
