import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';
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
