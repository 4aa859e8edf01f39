/**
 * npx tsx bench/tasks-join-ab.ts [executions]
 *
 * Issue 12: PostgreSQL's CPU for the tasks page's statement with the assignee
 * joined through the membership (`tasks → memberships → users`, what Prisma
 * sends for Task.assignee today) against the assignee's user joined directly
 * (what a `Task.assigneeUser` relation would send, as Project.ownerUser does).
 * Both prepared, as the runtime role in a request's settings, on two
 * connections taken in turn (order alternating); backend CPU from
 * /proc/<pid>/schedstat. Needs the bench database on the local server.
 */
import './env';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { benchUrls } from './database';
const { adminUrl, runtimeUrl } = benchUrls();
const cpu = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e3;
const COLS = `"t0"."organization_id" AS "organizationId", "t0"."id", "t0"."title", "t0"."status"::text, "t0"."assignee_id" AS "assigneeId"`;
const NESTED = `SELECT ${COLS}, "Task_assignee"."__prisma_data__" AS "assignee" FROM "public"."tasks" AS "t0" LEFT JOIN LATERAL (SELECT JSONB_BUILD_OBJECT('userId', "t1"."user_id", 'user', "Membership_user"."__prisma_data__") AS "__prisma_data__" FROM "tenantgate"."memberships" AS "t1" LEFT JOIN LATERAL (SELECT JSONB_BUILD_OBJECT('id', "t2"."id", 'email', "t2"."email", 'name', "t2"."name") AS "__prisma_data__" FROM "tenantgate"."users" AS "t2" WHERE "t1"."user_id" = "t2"."id" LIMIT $1) AS "Membership_user" ON true WHERE ("t0"."organization_id" = "t1"."organization_id" AND "t0"."assignee_id" = "t1"."user_id") LIMIT $2) AS "Task_assignee" ON true WHERE 1=1 ORDER BY "t0"."created_at" DESC, "t0"."id" DESC LIMIT $3 OFFSET $4`;
const DIRECT = `SELECT ${COLS}, "Task_assigneeUser"."__prisma_data__" AS "assigneeUser" FROM "public"."tasks" AS "t0" LEFT JOIN LATERAL (SELECT JSONB_BUILD_OBJECT('id', "t1"."id", 'email', "t1"."email", 'name', "t1"."name") AS "__prisma_data__" FROM "tenantgate"."users" AS "t1" WHERE "t0"."assignee_id" = "t1"."id" LIMIT $1) AS "Task_assigneeUser" ON true WHERE 1=1 AND $2::int = $2 ORDER BY "t0"."created_at" DESC, "t0"."id" DESC LIMIT $3 OFFSET $4`;
async function main() {
  const admin = new pg.Client(adminUrl); await admin.connect();
  const { rows: [o] } = await admin.query(`SELECT m.organization_id, m.user_id FROM memberships m ORDER BY random() LIMIT 1`); await admin.end();
  const variants = { nested: NESTED, direct: DIRECT } as Record<string, string>;
  const names = Object.keys(variants);
  const conns = await Promise.all(names.map(async (n) => { const c = new pg.Client(runtimeUrl); await c.connect(); const { rows: [{ pid }] } = await c.query('SELECT pg_backend_pid() pid'); return { c, pid }; }));
  const scope = `BEGIN READ ONLY; SET LOCAL app.current_org_id = '${o.organization_id}'; SET LOCAL app.current_user_id = '${o.user_id}'; SET LOCAL app.current_member_role = 'MEMBER'; SET LOCAL app.current_department_path = ''; SET LOCAL plan_cache_mode = force_generic_plan`;
  const N = Number(process.argv[2] ?? 3000); const be = [0, 0], node = [0, 0]; let rows = [0, 0];
  for (let i = 0; i < N; i++) for (const k of i % 2 ? [1, 0] : [0, 1]) {
    const { c, pid } = conns[k]; await c.query(scope);
    const t = cpu(pid); const u = process.cpuUsage();
    const r = await c.query({ name: names[k], text: variants[names[k]], values: [1, 1, 21, 0] });
    const d = process.cpuUsage(u); node[k] += d.user + d.system; be[k] += cpu(pid) - t; rows[k] = r.rows.length;
    await c.query('COMMIT');
  }
  names.forEach((n, k) => console.log(`${n}: page query backend ${(be[k] / N).toFixed(1)} µs, node (pg parse) ${(node[k] / N).toFixed(1)} µs, ${rows[k]} rows`));
  process.exit(0);
}
main();
