import pg from 'pg';
import { scopeStatement } from '../src/db/tenant';
import { sharedCountSql, sharedPageSql, type ShareScope } from '../src/tenancy/shareable';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';

/**
 * The non-OWN pages use indexes under RLS (docs/adr/0052): EXPLAIN ANALYZE of
 * the very SQL the gateway sends (src/tenancy/shareable.ts), as the runtime
 * role with the request's SET LOCALs, on 40,000 projects over 400
 * organizations, 1% shared with another organization and 0.1% public (a
 * database of its own: PUBLIC rows are every organization's).
 */

let scratch: ScratchDatabase;
let runtime: pg.Client;
let viewer: string;
let cursor: { organizationId: string; id: string };

beforeAll(async () => {
  scratch = await createScratchDatabase();
  const admin = new pg.Client({ connectionString: scratch.adminUrl });
  await admin.connect();
  await admin.query(`
    CREATE TEMP TABLE o AS SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS user_id FROM generate_series(1, 400) n;
    INSERT INTO organizations (id, slug, name, updated_at) SELECT id, 'plans-' || n, 'Plans ' || n, now() FROM o;
    INSERT INTO users (id, email, name) SELECT user_id, 'owner' || n || '@plans.test', 'Owner ' || n FROM o;
    INSERT INTO memberships (organization_id, user_id, role) SELECT id, user_id, 'OWNER' FROM o;
    -- Replica: without the event triggers (40,000 outbox rows would only slow the seed).
    SET session_replication_role = replica;
    INSERT INTO projects (id, organization_id, name, owner_id, created_at, updated_at)
      SELECT gen_random_uuid(), o.id, 'P' || g, o.user_id, now() - random() * interval '3 years', now()
        FROM generate_series(1, 40000) g JOIN o ON o.n = 1 + (g - 1) / 100;
    RESET session_replication_role;`);
  // The grant arrays as app.share_grants_sync would write them (the guard trigger refuses the runtime
  // role, not the admin's replica session): 1% shared with the next organization, 0.1% public.
  await admin.query(`
    SET session_replication_role = replica;
    UPDATE projects p SET visibility = 'SHARED', shared_read_org_ids = ARRAY[(SELECT id FROM o WHERE o.n = 1 + (x.n % 400))]
      FROM o x WHERE x.id = p.organization_id AND abs(hashtext(p.id::text)) % 100 = 0;
    UPDATE projects SET visibility = 'PUBLIC' WHERE abs(hashtext(id::text || 'public')) % 1000 = 0 AND visibility = 'PRIVATE';
    RESET session_replication_role;`);
  await admin.query('VACUUM ANALYZE projects');
  // A viewer with rows shared with it, and a cursor into its ALL page.
  const { rows } = await admin.query<{ viewer: string }>(`SELECT shared_read_org_ids[1] AS viewer FROM projects WHERE visibility = 'SHARED' LIMIT 1`);
  viewer = rows[0].viewer;
  const own = await admin.query<{ id: string }>(`SELECT id FROM projects WHERE organization_id = $1 ORDER BY created_at DESC, id DESC OFFSET 5 LIMIT 1`, [viewer]);
  cursor = { organizationId: viewer, id: own.rows[0].id };
  await admin.end();
  runtime = new pg.Client({ connectionString: scratch.runtimeUrl });
  await runtime.connect();
}, 120_000);

afterAll(async () => {
  await runtime?.end();
  await scratch?.drop();
});

async function explain(sql: { text: string; values: unknown[] }): Promise<string> {
  await runtime.query(`BEGIN; ${scopeStatement({ organizationId: viewer, userId: '', role: 'MEMBER' })}`);
  try {
    const { rows } = await runtime.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${sql.text}`, sql.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await runtime.query('ROLLBACK');
  }
}

const OWN_INDEX = /Index Scan (Backward )?using projects_organization_id_created_at_id_idx on projects/;
const SHARED_KEYS = /Function Scan on shared_row_keys[\s\S]*Index (Only )?Scan using (projects_id_idx|projects_pkey) on projects/;
const PUBLIC_INDEX = /Index Scan (Backward )?using projects_public_idx on projects/;
const NO_FULL_SCAN = /Seq Scan on projects|Bitmap Heap Scan on projects/;

describe.each<[Exclude<ShareScope, 'OWN'>, RegExp[]]>([
  ['ALL', [OWN_INDEX, SHARED_KEYS, PUBLIC_INDEX]],
  ['SHARED', [SHARED_KEYS]],
  ['PUBLIC', [PUBLIC_INDEX]],
])('scope %s, as the runtime role under RLS', (scope, expected) => {
  it.each([
    ['first page', undefined, 'desc' as const],
    ['after a cursor', 'cursor', 'desc' as const],
    ['oldest first', undefined, 'asc' as const],
  ])('the page (%s) reads each branch by its index, never the table', async (_title, withCursor, direction) => {
    const plan = await explain(sharedPageSql({ table: 'projects', scope, organizationId: viewer, limit: 21, direction, cursor: withCursor ? cursor : undefined }));
    for (const pattern of expected) expect(plan).toMatch(pattern);
    expect(plan).not.toMatch(NO_FULL_SCAN);
    // The executor stops each ordered branch at the page's size: no branch returns more than 21 rows.
    for (const [, rows] of plan.matchAll(/Limit \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/g)) expect(Number(rows)).toBeLessThanOrEqual(21);
  });

  it('the count reads each branch by its index', async () => {
    const plan = await explain(sharedCountSql({ table: 'projects', scope, organizationId: viewer }));
    expect(plan).not.toMatch(/Seq Scan on projects/);
  });
});

it("the page's rows, by the keys the first statement found: the primary key (organization_id = ANY, id = ANY, leakproof)", async () => {
  const admin = new pg.Client({ connectionString: scratch.adminUrl });
  await admin.connect();
  const { rows } = await admin.query<{ organization_id: string; id: string }>(
    `SELECT organization_id, id FROM projects WHERE visibility <> 'PRIVATE' AND shared_read_org_ids @> ARRAY[$1::uuid] LIMIT 5`,
    [viewer],
  );
  await admin.end();
  const plan = await explain({
    text: 'SELECT id, name FROM projects WHERE organization_id IN (SELECT unnest($1::uuid[])) AND id IN (SELECT unnest($2::uuid[]))',
    values: [rows.map((r) => r.organization_id), rows.map((r) => r.id)],
  });
  expect(plan).toMatch(/Index Scan using (projects_pkey|projects_id_idx) on projects/);
  expect(plan).not.toMatch(NO_FULL_SCAN);
});
