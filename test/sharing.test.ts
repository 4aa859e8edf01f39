import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';
import { OPEN_READ, summarizeStatements } from './helpers/statements';
import { ProjectsQuery } from './operations';

/**
 * share, unshare and setVisibility through the GraphQL endpoint, three
 * organizations: A owns, B is named, C is not. What each grant allows is the
 * database's (test/sharing-sql.test.ts); here: who may change sharing, slugs
 * answered alike whether they exist or not, and lists that stay OWN.
 */

const SHARE = `mutation Share($input: ShareInput!) { share(input: $input) { id } }`;
const UNSHARE = `mutation Unshare($input: UnshareInput!) { unshare(input: $input) { id } }`;
const SET_VISIBILITY = `mutation SetVisibility($input: SetVisibilityInput!) { setVisibility(input: $input) { id } }`;

let h: Harness;
let a: TestOrganization;
let b: TestOrganization;
let c: TestOrganization;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(async () => {
  [a, b, c] = [await h.createOrganization('A'), await h.createOrganization('B'), await h.createOrganization('C')];
});

async function project(org: TestOrganization): Promise<{ id: string; globalId: string }> {
  const id = randomUUID();
  await h.system.prisma.project.create({ data: { id, organizationId: org.id, name: 'partner work', ownerId: org.owner.id } });
  return { id, globalId: encodeGlobalID('Project', id) };
}

const row = (id: string) => h.system.prisma.project.findFirstOrThrow({ where: { id }, select: { visibility: true, sharedReadOrgIds: true, sharedWriteOrgIds: true } });

describe('share, unshare, setVisibility', () => {
  it('an ADMIN shares by slug; unknown slugs are answered exactly like known ones; unshare revokes', async () => {
    const p = await project(a);
    const known = await h.execute(SHARE, { token: a.admin.token, variables: { input: { id: p.globalId, organizations: [b.slug], permissions: ['READ', 'WRITE'] } } });
    const unknown = await h.execute(SHARE, { token: a.admin.token, variables: { input: { id: p.globalId, organizations: [`no-such-${randomUUID()}`], permissions: ['READ'] } } });
    expect(known).toEqual({ status: 200, data: { share: { id: p.globalId } } });
    expect(unknown).toEqual(known);
    expect(await row(p.id)).toEqual({ visibility: 'SHARED', sharedReadOrgIds: [b.id], sharedWriteOrgIds: [b.id] });

    // Granting again replaces the permissions.
    await h.execute(SHARE, { token: a.owner.token, variables: { input: { id: p.globalId, organizations: [b.slug, c.slug], permissions: ['READ'] } } });
    expect(await row(p.id)).toMatchObject({ sharedReadOrgIds: [b.id, c.id].sort(), sharedWriteOrgIds: [] });

    const revoked = await h.execute(UNSHARE, { token: a.admin.token, variables: { input: { id: p.globalId, organizations: [c.slug, 'nobody-at-all'] } } });
    expect(revoked.errors).toBeUndefined();
    expect(await row(p.id)).toMatchObject({ sharedReadOrgIds: [b.id] });
  });

  it('MEMBERs, grantees and other organizations cannot change sharing', async () => {
    const p = await project(a);
    await h.execute(SHARE, { token: a.admin.token, variables: { input: { id: p.globalId, organizations: [b.slug], permissions: ['READ', 'WRITE'] } } });
    for (const mutation of [SHARE, UNSHARE, SET_VISIBILITY]) {
      const input = mutation === SET_VISIBILITY ? { id: p.globalId, visibility: 'PUBLIC' } : { id: p.globalId, organizations: [c.slug], ...(mutation === SHARE ? { permissions: ['READ'] } : {}) };
      expect(errorCodes(await h.execute(mutation, { token: a.member.token, variables: { input } }))).toEqual(['FORBIDDEN']);
      // B holds WRITE and is an OWNER of its own organization: still not its row.
      expect(errorCodes(await h.execute(mutation, { token: b.owner.token, variables: { input } }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await h.execute(mutation, { token: c.owner.token, variables: { input } }))).toEqual(['NOT_FOUND']);
    }
    expect(await row(p.id)).toEqual({ visibility: 'SHARED', sharedReadOrgIds: [b.id], sharedWriteOrgIds: [b.id] });
  });

  it('setVisibility PUBLIC and back; a department-restricted project is refused; other IDs are BAD_USER_INPUT', async () => {
    // A template: a committed PUBLIC project would show in other test files' raw reads, which run at the same time.
    const template = await h.system.prisma.template.create({ data: { organizationId: a.id, name: 'Kickoff' } });
    const globalId = encodeGlobalID('Template', template.id);
    const visibility = async () => (await h.system.prisma.template.findFirstOrThrow({ where: { id: template.id } })).visibility;
    expect((await h.execute(SET_VISIBILITY, { token: a.owner.token, variables: { input: { id: globalId, visibility: 'PUBLIC' } } })).errors).toBeUndefined();
    expect(await visibility()).toBe('PUBLIC');
    expect(errorCodes(await h.execute(SET_VISIBILITY, { token: b.owner.token, variables: { input: { id: globalId, visibility: 'PRIVATE' } } }))).toEqual(['NOT_FOUND']);
    await h.execute(SET_VISIBILITY, { token: a.owner.token, variables: { input: { id: globalId, visibility: 'PRIVATE' } } });
    expect(await visibility()).toBe('PRIVATE');

    const department = await h.system.prisma.department.create({ data: { organizationId: a.id, name: 'R&D' } });
    const restricted = randomUUID();
    await h.system.prisma.project.create({ data: { id: restricted, organizationId: a.id, name: 'inner', ownerId: a.owner.id, restrictedToDepartmentId: department.id } });
    expect(errorCodes(await h.execute(SET_VISIBILITY, { token: a.owner.token, variables: { input: { id: encodeGlobalID('Project', restricted), visibility: 'PUBLIC' } } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await h.execute(SET_VISIBILITY, { token: a.owner.token, variables: { input: { id: encodeGlobalID('User', a.owner.id), visibility: 'PUBLIC' } } }))).toEqual(['BAD_USER_INPUT']);
  });

  it("lists stay OWN: a shared project is not in the grantee's projects, nor in its PROJECTS quota", async () => {
    const p = await project(a);
    await h.execute(SHARE, { token: a.admin.token, variables: { input: { id: p.globalId, organizations: [b.slug], permissions: ['READ'] } } });
    for (const org of [b, c]) {
      const list = await h.execute(ProjectsQuery, { token: org.member.token });
      expect(list.data?.projects.totalCount).toBe(0);
      expect(list.data?.projects.edges).toEqual([]);
    }
    const own = await h.execute(ProjectsQuery, { token: a.member.token });
    expect(own.data?.projects.edges.map((e) => e.node.id)).toEqual([p.globalId]);
    const quotas = await h.execute(`query { organization { quotas { resource used } } }`, { token: b.member.token });
    expect((quotas.data as { organization: { quotas: { resource: string; used: number }[] } }).organization.quotas.find((q) => q.resource === 'PROJECTS')?.used).toBe(0);
  });
});

/**
 * Shared rows through every GraphQL path, three organizations: A owns, B is
 * granted (READ on one project, WRITE on another), C is granted nothing. A
 * database of its own (test/helpers/scratch-database.ts): a committed PUBLIC
 * project is every organization's, and other test files count projects.
 */
describe('shared and public rows through GraphQL, three organizations', () => {
  const PAGE = `query Page($scope: ShareScope, $first: Int, $after: String, $status: ProjectStatus) {
    projects(scope: $scope, first: $first, after: $after, status: $status) {
      totalCount
      edges { cursor node { id name visibility owner { email } ownerOrganization { slug name } viewerPermissions } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const GET = `query Get($id: ID!) { project(id: $id) { id name owner { email } ownerOrganization { slug } viewerPermissions } node(id: $id) { id ... on Project { name } } }`;
  const UPDATE = `mutation Update($input: UpdateProjectInput!) { updateProject(input: $input) { project { id name status viewerPermissions } } }`;
  const DELETE = `mutation Delete($input: DeleteProjectInput!) { deleteProject(input: $input) { deletedProjectId } }`;

  let scratch: ScratchDatabase;
  let s: Harness;
  let statements: string[] = [];
  let A: TestOrganization;
  let B: TestOrganization;
  let C: TestOrganization;
  // Created in this order, a second apart: the ALL page is newest first.
  let priv: { id: string; globalId: string };
  let readP: { id: string; globalId: string };
  let writeP: { id: string; globalId: string };
  let publicP: { id: string; globalId: string };
  let bOwn: { id: string; globalId: string };

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    s = await startHarness({ database: scratch, onStatement: (sql) => statements.push(sql) });
  });
  afterAll(async () => {
    await s.close();
    await scratch.drop();
  });

  async function made(org: TestOrganization, name: string, minutesAgo: number) {
    const id = randomUUID();
    await s.system.prisma.project.create({ data: { id, organizationId: org.id, name, ownerId: org.owner.id, createdAt: new Date(Date.now() - minutesAgo * 60_000) } });
    return { id, globalId: encodeGlobalID('Project', id) };
  }
  const ok = async (document: string, token: string, variables: Record<string, unknown>) => {
    const response = await s.execute(document, { token, variables });
    expect(response.errors).toBeUndefined();
    return response.data as Record<string, never>;
  };

  beforeEach(async () => {
    [A, B, C] = [await s.createOrganization('Owner Org'), await s.createOrganization('Partner Org'), await s.createOrganization('Third Org')];
    priv = await made(A, 'private', 50);
    readP = await made(A, 'read-shared', 40);
    writeP = await made(A, 'write-shared', 30);
    publicP = await made(A, 'public', 20);
    bOwn = await made(B, "partner's own", 10);
    // Through the API, as A's ADMIN would.
    await ok(SHARE, A.admin.token, { input: { id: readP.globalId, organizations: [B.slug], permissions: ['READ'] } });
    await ok(SHARE, A.admin.token, { input: { id: writeP.globalId, organizations: [B.slug], permissions: ['READ', 'WRITE'] } });
    await ok(SET_VISIBILITY, A.owner.token, { input: { id: publicP.globalId, visibility: 'PUBLIC' } });
  });

  const page = async (org: TestOrganization, scope?: string, variables: Record<string, unknown> = {}) =>
    (await ok(PAGE, org.member.token, { scope, first: 20, ...variables })).projects as unknown as {
      totalCount: number;
      edges: { cursor: string; node: { id: string; name: string; visibility: string; owner: { email: string } | null; ownerOrganization: { slug: string; name: string }; viewerPermissions: string[] } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
  const ids = (p: { edges: { node: { id: string } }[] }) => p.edges.map((e) => e.node.id);
  // Other organizations of this database (earlier tests) may have PUBLIC projects too: keep to these three's.
  const ours = (list: string[]) => list.filter((id) => [priv, readP, writeP, publicP, bOwn].some((p) => p.globalId === id));

  it('lists each scope: B sees its own, the two shared with it and the public one; C only the public one; A its own in every scope', async () => {
    expect(ids(await page(B))).toEqual([bOwn.globalId]);
    expect(ids(await page(B, 'OWN'))).toEqual([bOwn.globalId]);
    expect(ids(await page(B, 'SHARED'))).toEqual([writeP.globalId, readP.globalId]);
    expect(ours(ids(await page(B, 'PUBLIC')))).toEqual([publicP.globalId]);
    expect(ours(ids(await page(B, 'ALL')))).toEqual([bOwn.globalId, publicP.globalId, writeP.globalId, readP.globalId]);
    expect(ids(await page(C, 'SHARED'))).toEqual([]);
    expect(ours(ids(await page(C, 'ALL')))).toEqual([publicP.globalId]);
    expect(ours(ids(await page(A, 'ALL')))).toEqual([publicP.globalId, writeP.globalId, readP.globalId, priv.globalId]);
    // Another organization's rows are never in A's SHARED or PUBLIC: they are its own.
    expect(ours(ids(await page(A, 'SHARED')))).toEqual([]);
    expect(ours(ids(await page(A, 'PUBLIC')))).toEqual([]);
    expect((await page(B, 'SHARED')).totalCount).toBe(2);
    expect((await page(B, 'OWN')).totalCount).toBe(1);
    const all = await page(B, 'ALL');
    expect(all.totalCount).toBe(all.edges.length);
  });

  it('says whose a row is and what the viewer may do; the owner of another organization is null', async () => {
    const nodes = Object.fromEntries((await page(B, 'ALL')).edges.map((e) => [e.node.id, e.node]));
    expect(nodes[readP.globalId]).toMatchObject({ visibility: 'SHARED', owner: null, ownerOrganization: { slug: A.slug, name: 'Owner Org' }, viewerPermissions: ['READ'] });
    expect(nodes[writeP.globalId]).toMatchObject({ owner: null, viewerPermissions: ['READ', 'WRITE'] });
    expect(nodes[publicP.globalId]).toMatchObject({ visibility: 'PUBLIC', owner: null, ownerOrganization: { slug: A.slug }, viewerPermissions: ['READ'] });
    expect(nodes[bOwn.globalId]).toMatchObject({ visibility: 'PRIVATE', owner: { email: B.owner.email }, ownerOrganization: { slug: B.slug, name: 'Partner Org' }, viewerPermissions: ['READ', 'WRITE', 'DELETE'] });
    const ownView = (await ok(GET, A.admin.token, { id: readP.globalId })).project as unknown as { owner: { email: string }; viewerPermissions: string[] };
    expect(ownView).toMatchObject({ owner: { email: A.owner.email }, viewerPermissions: ['READ', 'WRITE', 'DELETE', 'SHARE'] });
  });

  it('pages ALL by cursor without gaps or repeats, and filters by status in every branch', async () => {
    const first = await page(B, 'ALL', { first: 2 });
    const rest = await page(B, 'ALL', { first: 20, after: first.pageInfo.endCursor });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(ours([...ids(first), ...ids(rest)])).toEqual([bOwn.globalId, publicP.globalId, writeP.globalId, readP.globalId]);
    // Backwards: the two rows before the last one, in the same (newest first) order.
    const all = ids(await page(B, 'ALL'));
    const cursors = (await page(B, 'ALL')).edges.map((e) => e.cursor);
    const back = await ok(`query($before: String) { projects(scope: ALL, last: 2, before: $before) { edges { node { id } } pageInfo { hasPreviousPage } } }`, B.member.token, { before: cursors[3] });
    expect((back.projects as unknown as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id)).toEqual(all.slice(1, 3));
    await s.system.prisma.project.update({ where: { organizationId_id: { organizationId: A.id, id: writeP.id } }, data: { status: 'ARCHIVED' } });
    expect(ids(await page(B, 'ALL', { status: 'ARCHIVED' }))).toEqual([writeP.globalId]);
  });

  it('get and node(id): a shared or public project is found by those it is visible to, never by others', async () => {
    const get = async (org: TestOrganization, p: { globalId: string }) => {
      const data = await ok(GET, org.member.token, { id: p.globalId });
      return [(data.project as { id: string } | null)?.id ?? null, (data.node as { id: string } | null)?.id ?? null];
    };
    expect(await get(B, readP)).toEqual([readP.globalId, readP.globalId]);
    expect(await get(B, writeP)).toEqual([writeP.globalId, writeP.globalId]);
    expect(await get(B, publicP)).toEqual([publicP.globalId, publicP.globalId]);
    expect(await get(B, priv)).toEqual([null, null]);
    expect(await get(C, readP)).toEqual([null, null]);
    expect(await get(C, publicP)).toEqual([publicP.globalId, publicP.globalId]);
    expect(await get(A, bOwn)).toEqual([null, null]);
  });

  it('update: WRITE updates the shared fields; READ and public are FORBIDDEN; the third organization is NOT_FOUND', async () => {
    const updated = await ok(UPDATE, B.member.token, { input: { id: writeP.globalId, name: 'renamed by partner', status: 'COMPLETED' } });
    expect(updated.updateProject).toEqual({ project: { id: writeP.globalId, name: 'renamed by partner', status: 'COMPLETED', viewerPermissions: ['READ', 'WRITE'] } });
    expect(await s.system.prisma.project.findFirst({ where: { id: writeP.id }, select: { name: true, organizationId: true } })).toEqual({ name: 'renamed by partner', organizationId: A.id });
    expect(errorCodes(await s.execute(UPDATE, { token: B.owner.token, variables: { input: { id: readP.globalId, name: 'x' } } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await s.execute(UPDATE, { token: C.owner.token, variables: { input: { id: publicP.globalId, name: 'x' } } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await s.execute(UPDATE, { token: C.owner.token, variables: { input: { id: writeP.globalId, name: 'x' } } }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await s.execute(UPDATE, { token: B.owner.token, variables: { input: { id: priv.globalId, name: 'x' } } }))).toEqual(['NOT_FOUND']);
    // A field beyond the shared ones (name, status): the guard trigger refuses it.
    const department = await s.system.prisma.department.create({ data: { organizationId: A.id, name: 'R&D' } });
    const beyond = await s.execute(UPDATE, { token: B.owner.token, variables: { input: { id: writeP.globalId, restrictedToDepartmentId: encodeGlobalID('Department', department.id) } } });
    expect(errorCodes(beyond)).toEqual(['FORBIDDEN']);
    expect((await s.system.prisma.project.findFirstOrThrow({ where: { id: writeP.id } })).name).toBe('renamed by partner');
  });

  it('delete: never a grantee (FORBIDDEN), never the third organization (NOT_FOUND); the owner does', async () => {
    expect(errorCodes(await s.execute(DELETE, { token: B.owner.token, variables: { input: { id: writeP.globalId } } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await s.execute(DELETE, { token: C.owner.token, variables: { input: { id: publicP.globalId } } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await s.execute(DELETE, { token: C.owner.token, variables: { input: { id: readP.globalId } } }))).toEqual(['NOT_FOUND']);
    expect(await s.system.prisma.project.count({ where: { organizationId: A.id } })).toBe(4);
    await ok(DELETE, A.member.token, { input: { id: writeP.globalId } });
    expect(ids(await page(B, 'SHARED'))).toEqual([readP.globalId]);
    expect(await s.system.prisma.shareGrant.count({ where: { resourceId: writeP.id } })).toBe(0);
  });

  it('revocation and PRIVATE take effect on the next request', async () => {
    expect(ids(await page(B, 'SHARED'))).toEqual([writeP.globalId, readP.globalId]);
    await ok(UNSHARE, A.admin.token, { input: { id: readP.globalId, organizations: [B.slug] } });
    expect(ids(await page(B, 'SHARED'))).toEqual([writeP.globalId]);
    expect((await ok(GET, B.member.token, { id: readP.globalId })).project).toBeNull();
    await ok(SET_VISIBILITY, A.owner.token, { input: { id: writeP.globalId, visibility: 'PRIVATE' } });
    expect(ids(await page(B, 'SHARED'))).toEqual([]);
    expect(errorCodes(await s.execute(UPDATE, { token: B.owner.token, variables: { input: { id: writeP.globalId, name: 'late' } } }))).toEqual(['NOT_FOUND']);
    await ok(SET_VISIBILITY, A.owner.token, { input: { id: publicP.globalId, visibility: 'PRIVATE' } });
    expect(ours(ids(await page(C, 'ALL')))).toEqual([]);
  });

  it("quotas: shared and public rows never count for the viewer, and count for their owner", async () => {
    const used = async (org: TestOrganization) =>
      ((await ok(`query { organization { quotas { resource used } } }`, org.member.token, {})).organization as unknown as { quotas: { resource: string; used: number }[] }).quotas.find((q) => q.resource === 'PROJECTS')?.used;
    expect(await used(A)).toBe(4);
    expect(await used(B)).toBe(1);
    expect(await used(C)).toBe(0);
  });

  it('templates: the same surface through tenantModel (shareable: true)', async () => {
    const created = await ok(`mutation { createTemplate(input: { name: "Kickoff", description: "agenda" }) { template { id viewerPermissions } } }`, A.admin.token, {});
    const template = (created.createTemplate as unknown as { template: { id: string; viewerPermissions: string[] } }).template;
    expect(template.viewerPermissions).toEqual(['READ', 'WRITE', 'DELETE', 'SHARE']);
    await ok(SHARE, A.admin.token, { input: { id: template.id, organizations: [B.slug], permissions: ['READ', 'WRITE'] } });
    const LIST = `query($scope: ShareScope) { templates(scope: $scope, first: 10) { totalCount edges { node { id name ownerOrganization { slug } viewerPermissions } } } }`;
    expect((await ok(LIST, B.member.token, { scope: 'SHARED' })).templates).toEqual({
      totalCount: 1,
      edges: [{ node: { id: template.id, name: 'Kickoff', ownerOrganization: { slug: A.slug }, viewerPermissions: ['READ', 'WRITE'] } }],
    });
    expect((await ok(LIST, B.member.token, {})).templates).toEqual({ totalCount: 0, edges: [] });
    expect((await ok(LIST, C.member.token, { scope: 'ALL' })).templates).toEqual({ totalCount: 0, edges: [] });
    const renamed = await ok(`mutation($id: ID!) { updateTemplate(input: { id: $id, description: "partner's agenda" }) { template { description } } }`, B.member.token, { id: template.id });
    expect(renamed.updateTemplate).toEqual({ template: { description: "partner's agenda" } });
    expect(errorCodes(await s.execute(`mutation($id: ID!) { deleteTemplate(input: { id: $id }) { deletedTemplateId } }`, { token: B.owner.token, variables: { id: template.id } }))).toEqual(['FORBIDDEN']);
    expect((await ok(`query($id: ID!) { template(id: $id) { name } node(id: $id) { id } }`, B.member.token, { id: template.id }))).toEqual({ template: { name: 'Kickoff' }, node: { id: template.id } });
    expect((await ok(`query($id: ID!) { template(id: $id) { name } }`, C.member.token, { id: template.id })).template).toBeNull();
  });

  it('a scope ALL page costs the same number of statements for 1, 2 and 5 rows', async () => {
    const count = async (first: number) => {
      statements = [];
      const p = await page(B, 'ALL', { first });
      expect(p.edges).toHaveLength(first);
      return statements.length;
    };
    for (let i = 0; i < 3; i += 1) await made(B, `more ${i}`, 5 - i);
    // Once first, so that every measured request opens its transaction alike (the access check remembered).
    await count(1);
    const counts = [await count(1), await count(2), await count(5)];
    expect(new Set(counts).size).toBe(1);
    // The access check opens the transaction; the page's keys, its rows (owners joined), the
    // count and the owners' organizations (one batched call), in some order; COMMIT.
    const summary = summarizeStatements(statements);
    expect([summary[0], summary[summary.length - 1]]).toEqual([OPEN_READ, 'COMMIT']);
    expect(summary.slice(1, -1).sort()).toEqual(['SELECT', 'SELECT', 'SELECT', 'SELECT projects']);
  });
});
