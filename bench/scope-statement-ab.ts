/**
 * npx tsx bench/scope-statement-ab.ts [iterations]
 *
 * Issue 18, lead 2: what the access check's opening message costs PostgreSQL
 * with the settings as five SET LOCALs (what the gateway sends), as one
 * `SELECT set_config(…, true), …` (what was tried), and with no settings at
 * all, each followed by COMMIT. Three connections as the bench runtime role,
 * taken in turn within every iteration (order alternating), so that a busy
 * machine slows all three alike; the backend's CPU from /proc/<pid>/schedstat
 * (nanoseconds), Node's from process.cpuUsage(). Needs the bench database
 * (`npm run bench` once) on the local server.
 */
import './env';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { benchUrls } from './database';
import { withSearchPath } from '../src/db/schemas';

const { adminUrl, runtimeUrl } = benchUrls();
const cpu = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e3; // µs
async function conn() { const c = new pg.Client(runtimeUrl); await c.connect(); const { rows: [{ pid }] } = await c.query('SELECT pg_backend_pid() pid'); return { c, pid }; }
async function main() {
  const admin = new pg.Client(withSearchPath(adminUrl)); await admin.connect();
  const { rows: [o] } = await admin.query(`SELECT m.organization_id, m.user_id FROM memberships m LIMIT 1`);
  const org = o.organization_id, user = o.user_id;
  const ver = `SELECT version::text FROM access_versions WHERE organization_id = '${org}'::uuid`;
  const variants: Record<string, string> = {
    'SET LOCAL x5': `BEGIN READ ONLY; SET LOCAL app.current_org_id = '${org}'; SET LOCAL app.current_user_id = '${user}'; SET LOCAL app.current_member_role = 'MEMBER'; SET LOCAL app.current_department_path = ''; SET LOCAL plan_cache_mode = force_generic_plan; ${ver}`,
    'set_config x1': `BEGIN READ ONLY; SELECT set_config('app.current_org_id', '${org}', true), set_config('app.current_user_id', '${user}', true), set_config('app.current_member_role', 'MEMBER', true), set_config('app.current_department_path', '', true), set_config('plan_cache_mode', 'force_generic_plan', true); ${ver}`,
    'no settings': `BEGIN READ ONLY; ${ver}`,
  };
  await admin.end();
  const names = Object.keys(variants);
  const conns = await Promise.all(names.map(conn));
  const N = Number(process.argv[2] ?? 10000);
  const be = names.map(() => 0), node = names.map(() => 0);
  for (let i = 0; i < N; i++) {
    for (const k of (i % 2 ? [2, 1, 0] : [0, 1, 2])) {
      const { c, pid } = conns[k];
      const t = cpu(pid); const u = process.cpuUsage();
      await c.query(variants[names[k]]); await c.query('COMMIT');
      const d = process.cpuUsage(u); node[k] += d.user + d.system;
      be[k] += cpu(pid) - t;
    }
  }
  names.forEach((n, k) => console.log(`${n}: backend ${(be[k] / N).toFixed(1)} µs/req (BEGIN…; COMMIT), node ${(node[k] / N).toFixed(1)} µs/req`));
  process.exit(0);
}
main();
