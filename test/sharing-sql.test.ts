import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { scopeStatement } from '../src/db/tenant';
import { startHarness, type Harness, type TestOrganization, type TestUser } from './helpers/harness';

/**
 * Sharing as PostgreSQL enforces it (migration 20261204150200_sharing), in raw
 * SQL as the runtime role, with three organizations: A owns, B is granted, C is
 * neither. Every path a client could take without the gateway: SELECT, UPDATE,
 * DELETE, INSERT of grants, writes to the grant arrays and visibility.
 */

let h: Harness;
let runtime: pg.Pool;
let a: TestOrganization;
let b: TestOrganization;
let c: TestOrganization;

beforeAll(async () => {
  h = await startHarness();
  runtime = new pg.Pool({ connectionString: h.runtimeUrl, max: 3 });
});
afterAll(async () => {
  await runtime.end();
  await h.close();
});
beforeEach(async () => {
  [a, b, c] = [await h.createOrganization('A'), await h.createOrganization('B'), await h.createOrganization('C')];
});

// Other tests' PUBLIC rows are visible to every organization: the lists below keep to this test's three.

/** Runs `fn` in a transaction scoped to `org` as `user`, as the tenant client does; rolls back on error. */
async function as<T>(org: TestOrganization, user: TestUser, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await runtime.connect();
  try {
    await client.query(`BEGIN; ${scopeStatement({ organizationId: org.id, userId: user.id, role: user.role })}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function createProject(org: TestOrganization, name = 'shared work'): Promise<string> {
  const id = randomUUID();
  await h.system.prisma.project.create({ data: { id, organizationId: org.id, name, ownerId: org.owner.id } });
  return id;
}

const visibleIds = (org: TestOrganization, user: TestUser = org.member) =>
  as(org, user, async (db) => (await db.query<{ id: string }>('SELECT id FROM projects WHERE organization_id = ANY($1) ORDER BY id', [[a.id, b.id, c.id]])).rows.map((r) => r.id));

async function grant(projectId: string, grantee: TestOrganization, canWrite: boolean, visibility = 'SHARED') {
  await as(a, a.admin, async (db) => {
    await db.query(`INSERT INTO share_grants (resource, resource_id, grantee_id, can_write) VALUES ('projects', $1, $2, $3)`, [projectId, grantee.id, canWrite]);
    await db.query('UPDATE projects SET visibility = $2 WHERE id = $1', [projectId, visibility]);
  });
}

const rowCount = (org: TestOrganization, user: TestUser, sql: string, params: unknown[]) => as(org, user, async (db) => (await db.query(sql, params)).rowCount);

describe('PostgreSQL sharing policies, raw SQL', () => {
  it('PRIVATE: only the owner sees, updates and deletes', async () => {
    const id = await createProject(a);
    expect(await visibleIds(a)).toEqual([id]);
    expect(await visibleIds(b)).toEqual([]);
    expect(await visibleIds(c)).toEqual([]);
    expect(await rowCount(b, b.owner, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'taken'])).toBe(0);
    expect(await rowCount(b, b.owner, 'DELETE FROM projects WHERE id = $1', [id])).toBe(0);
    // A grant without visibility does nothing while the row is PRIVATE.
    await as(a, a.owner, (db) => db.query(`INSERT INTO share_grants (resource, resource_id, grantee_id) VALUES ('projects', $1, $2)`, [id, b.id]));
    expect(await visibleIds(b)).toEqual([]);
  });

  it('READ: the grantee reads, never writes or deletes; the third organization sees nothing', async () => {
    const id = await createProject(a);
    await grant(id, b, false);
    expect(await visibleIds(b)).toEqual([id]);
    expect(await visibleIds(c)).toEqual([]);
    expect(await rowCount(b, b.owner, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'changed'])).toBe(0);
    expect(await rowCount(b, b.owner, 'DELETE FROM projects WHERE id = $1', [id])).toBe(0);
    expect(await rowCount(c, c.owner, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'changed'])).toBe(0);
    expect((await h.system.prisma.project.findFirstOrThrow({ where: { id } })).name).toBe('shared work');
  });

  it('WRITE: the grantee updates the shared fields only; never deletes, re-shares or changes visibility', async () => {
    const id = await createProject(a);
    await grant(id, b, true);
    expect(await rowCount(b, b.member, `UPDATE projects SET name = 'renamed by B', status = 'COMPLETED', updated_at = now() WHERE id = $1`, [id])).toBe(1);
    expect(await h.system.prisma.project.findFirstOrThrow({ where: { id } })).toMatchObject({ name: 'renamed by B', status: 'COMPLETED' });
    await expect(rowCount(b, b.owner, `UPDATE projects SET visibility = 'PUBLIC' WHERE id = $1`, [id])).rejects.toMatchObject({ code: '42501' });
    await expect(rowCount(b, b.owner, 'UPDATE projects SET owner_id = $2 WHERE id = $1', [id, b.owner.id])).rejects.toMatchObject({ code: '42501' });
    await expect(rowCount(b, b.owner, 'UPDATE projects SET shared_read_org_ids = shared_read_org_ids || $2::uuid WHERE id = $1', [id, c.id])).rejects.toMatchObject({ code: '42501' });
    expect(await rowCount(b, b.owner, 'DELETE FROM projects WHERE id = $1', [id])).toBe(0);
    // Re-sharing: B's grant row would be B's, for a project B does not own.
    await expect(rowCount(b, b.owner, `INSERT INTO share_grants (resource, resource_id, grantee_id, can_write) VALUES ('projects', $1, $2, true)`, [id, c.id])).rejects.toMatchObject({ code: 'P0002' });
    await expect(rowCount(b, b.owner, `INSERT INTO share_grants (organization_id, resource, resource_id, grantee_id) VALUES ($3, 'projects', $1, $2)`, [id, c.id, a.id])).rejects.toMatchObject({ code: '42501' });
    expect(await visibleIds(c)).toEqual([]);
    // C has no grant: no write.
    expect(await rowCount(c, c.owner, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'C'])).toBe(0);
  });

  it('PUBLIC: every organization reads, none but the owner writes, nobody counts it but the owner; a request without an organization sees nothing', async () => {
    // SECURITY of the suite: a committed PUBLIC project would be visible to every other test file's
    // organizations (they run at the same time); this one lives in a transaction that is rolled back.
    const id = await createProject(a);
    const client = await runtime.connect();
    const scope = (org: TestOrganization | null, user?: TestUser) =>
      client.query(scopeStatement({ organizationId: org?.id ?? null, userId: user?.id ?? null, role: user?.role ?? null }));
    const ids = async () => (await client.query<{ id: string }>('SELECT id FROM projects WHERE organization_id = ANY($1)', [[a.id, b.id, c.id]])).rows.map((r) => r.id);
    try {
      await client.query('BEGIN');
      await scope(a, a.owner);
      await client.query(`UPDATE projects SET visibility = 'PUBLIC' WHERE id = $1`, [id]);
      for (const org of [b, c]) {
        await scope(org, org.member);
        expect(await ids()).toEqual([id]);
        expect((await client.query('UPDATE projects SET name = $2 WHERE id = $1', [id, 'taken'])).rowCount).toBe(0);
        expect((await client.query('DELETE FROM projects WHERE id = $1', [id])).rowCount).toBe(0);
        expect((await client.query<{ n: string }>(`SELECT app.quota_usage('PROJECTS') AS n`)).rows[0].n).toBe('0');
      }
      await scope(a, a.member);
      expect((await client.query<{ n: string }>(`SELECT app.quota_usage('PROJECTS') AS n`)).rows[0].n).toBe('1');
      await scope(null);
      expect(await ids()).toEqual([]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('revocation takes effect on the next statement; deleting the row drops its grants', async () => {
    const id = await createProject(a);
    await grant(id, b, true);
    expect(await visibleIds(b)).toEqual([id]);
    await as(a, a.owner, (db) => db.query('DELETE FROM share_grants WHERE resource_id = $1 AND grantee_id = $2', [id, b.id]));
    expect(await visibleIds(b)).toEqual([]);
    expect(await rowCount(b, b.owner, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'late'])).toBe(0);

    await grant(id, c, false);
    await as(a, a.owner, (db) => db.query('DELETE FROM projects WHERE id = $1', [id]));
    expect(await h.system.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM share_grants WHERE resource_id = ${id}::uuid`).toEqual([{ n: 0n }]);
  });

  it('only OWNER and ADMIN of the owning organization grant, revoke or change visibility', async () => {
    const id = await createProject(a);
    await expect(rowCount(a, a.member, `INSERT INTO share_grants (resource, resource_id, grantee_id) VALUES ('projects', $1, $2)`, [id, b.id])).rejects.toMatchObject({ code: '42501' });
    await expect(rowCount(a, a.member, `UPDATE projects SET visibility = 'PUBLIC' WHERE id = $1`, [id])).rejects.toMatchObject({ code: '42501' });
    await grant(id, b, false);
    expect(await rowCount(a, a.member, 'DELETE FROM share_grants WHERE resource_id = $1', [id])).toBe(0);
    expect(await visibleIds(b)).toEqual([id]);
    // Members still edit their organization's project as before.
    expect(await rowCount(a, a.member, 'UPDATE projects SET name = $2 WHERE id = $1', [id, 'member edit'])).toBe(1);
  });

  it('a department-restricted project cannot be shared', async () => {
    const department = await h.system.prisma.department.create({ data: { organizationId: a.id, name: 'R&D' } });
    const id = randomUUID();
    await h.system.prisma.project.create({ data: { id, organizationId: a.id, name: 'restricted', ownerId: a.owner.id, restrictedToDepartmentId: department.id } });
    await expect(rowCount(a, a.owner, `UPDATE projects SET visibility = 'PUBLIC' WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23514' });
    await expect(rowCount(a, a.owner, `INSERT INTO share_grants (resource, resource_id, grantee_id) VALUES ('projects', $1, $2)`, [id, b.id])).rejects.toMatchObject({ code: '23514' });
  });

  it("shared and public rows never count toward the viewer's quota; they count for the owner", async () => {
    const id = await createProject(a);
    await grant(id, b, true);
    const used = (org: TestOrganization) => as(org, org.member, async (db) => Number((await db.query<{ n: string }>(`SELECT app.quota_usage('PROJECTS') AS n`)).rows[0].n));
    expect(await used(a)).toBe(1);
    expect(await used(b)).toBe(0);
    expect(await used(c)).toBe(0);
  });

  it('templates are shareable the same way (app.make_shareable)', async () => {
    const id = randomUUID();
    await as(a, a.owner, (db) => db.query(`INSERT INTO templates (id, name, description) VALUES ($1, 'Kickoff', 'agenda')`, [id]));
    const templates = (org: TestOrganization) => as(org, org.member, async (db) => (await db.query<{ id: string }>('SELECT id FROM templates WHERE organization_id = ANY($1)', [[a.id, b.id, c.id]])).rows.map((r) => r.id));
    expect(await templates(b)).toEqual([]);
    await as(a, a.owner, async (db) => {
      await db.query(`INSERT INTO share_grants (resource, resource_id, grantee_id, can_write) VALUES ('templates', $1, $2, true)`, [id, b.id]);
      await db.query(`UPDATE templates SET visibility = 'SHARED' WHERE id = $1`, [id]);
    });
    expect(await templates(b)).toEqual([id]);
    expect(await templates(c)).toEqual([]);
    expect(await rowCount(b, b.member, `UPDATE templates SET description = 'B edits' WHERE id = $1`, [id])).toBe(1);
    await expect(rowCount(b, b.member, `UPDATE templates SET created_by = $2 WHERE id = $1`, [id, b.member.id])).rejects.toMatchObject({ code: '42501' });
    await as(a, a.owner, (db) => db.query(`UPDATE templates SET visibility = 'PUBLIC' WHERE id = $1`, [id]));
    expect(await templates(c)).toEqual([id]);
  });

  it('app.shared_row_keys and app.row_owners (migration 20261205150100_shared_pages) answer only what the policies would show', async () => {
    const [priv, shared] = [await createProject(a, 'private'), await createProject(a, 'shared')];
    await grant(shared, b, false);
    const keys = (org: TestOrganization) => as(org, org.member, async (db) => (await db.query<{ id: string }>(`SELECT id FROM app.shared_row_keys('projects')`)).rows.map((r) => r.id));
    const owners = (org: TestOrganization) =>
      as(org, org.member, async (db) => (await db.query<{ id: string; slug: string }>(`SELECT id, slug FROM app.row_owners('projects', $1::uuid[]) ORDER BY slug, id`, [[priv, shared]])).rows);
    expect(await keys(b)).toEqual([shared]);
    expect(await keys(c)).toEqual([]);
    // The owner's own rows are not "shared with" it.
    expect(await keys(a)).toEqual([]);
    expect(await owners(b)).toEqual([{ id: shared, slug: a.slug }]);
    expect(await owners(c)).toEqual([]);
    expect((await owners(a)).map((r) => r.id).sort()).toEqual([priv, shared].sort());
    // Only shareable tables; never without an organization.
    await expect(as(b, b.member, (db) => db.query(`SELECT * FROM app.shared_row_keys('memberships')`))).rejects.toMatchObject({ code: '22023' });
    await expect(as(b, b.member, (db) => db.query(`SELECT * FROM app.row_owners('organizations', $1::uuid[])`, [[a.id]]))).rejects.toMatchObject({ code: '22023' });
    const none = await runtime.connect();
    try {
      await none.query('BEGIN');
      expect((await none.query(`SELECT * FROM app.shared_row_keys('projects')`)).rowCount).toBe(0);
      expect((await none.query(`SELECT * FROM app.row_owners('projects', $1::uuid[])`, [[priv, shared]])).rowCount).toBe(0);
    } finally {
      await none.query('ROLLBACK');
      none.release();
    }
    // Revoked: gone from both on the next statement.
    await as(a, a.admin, (db) => db.query(`DELETE FROM share_grants WHERE resource_id = $1`, [shared]));
    expect(await keys(b)).toEqual([]);
    expect(await owners(b)).toEqual([]);
  });
});
