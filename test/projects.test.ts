import { encodeGlobalID } from '@pothos/plugin-relay';
import { errorCodes, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { CreateProject, DeleteProject, NodeQuery, ProjectQuery, ProjectsQuery, UpdateProject, ViewerQuery } from './operations';

/**
 * Every project operation through the GraphQL endpoint, as two organizations,
 * both sides asserted: the owner sees the row, the other organization gets null
 * or NOT_FOUND, and the row is unchanged afterwards.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));

async function createProject(org: TestOrganization, name: string, status?: 'ACTIVE' | 'ARCHIVED' | 'COMPLETED') {
  const response = await h.execute(CreateProject, { token: org.member.token, variables: { input: { name, status } } });
  expect(response.errors).toBeUndefined();
  return response.data!.createProject.project;
}

describe('viewer and organization', () => {
  it('shows the caller, its active organization and its role', async () => {
    const response = await h.execute(ViewerQuery, { token: acme.admin.token });
    expect(response.data?.viewer).toEqual({
      user: { id: encodeGlobalID('User', acme.admin.id), email: acme.admin.email, name: 'Test admin' },
      organization: { id: encodeGlobalID('Organization', acme.id), slug: acme.slug, name: 'Acme' },
      role: 'ADMIN',
    });
    expect(response.data?.organization.slug).toBe(acme.slug);
    const other = await h.execute(ViewerQuery, { token: globex.owner.token });
    expect(other.data?.organization.slug).toBe(globex.slug);
    expect(other.data?.viewer.role).toBe('OWNER');
  });
});

describe('createProject', () => {
  it('creates in the caller\'s organization, owned by the caller', async () => {
    const project = await createProject(acme, 'Website Redesign');
    expect(project).toMatchObject({ name: 'Website Redesign', status: 'ACTIVE', owner: { id: encodeGlobalID('User', acme.member.id), email: acme.member.email } });
    const stored = await h.system.prisma.project.findFirstOrThrow({ where: { name: 'Website Redesign', organizationId: acme.id } });
    expect(stored.ownerId).toBe(acme.member.id);
    expect(await h.system.prisma.project.count({ where: { organizationId: globex.id } })).toBe(0);
  });

  it('trims the name and takes a status', async () => {
    expect(await createProject(acme, '  Padded  ', 'COMPLETED')).toMatchObject({ name: 'Padded', status: 'COMPLETED' });
  });

  it.each([
    ['an empty name', { name: '' }, 'input.name', 'must not be empty'],
    ['a blank name', { name: '   ' }, 'input.name', 'must not be empty'],
    ['a name over 200 characters', { name: 'x'.repeat(201) }, 'input.name', 'must be at most 200 characters'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_, input, field, message) => {
    const response = await h.execute(CreateProject, { token: acme.owner.token, variables: { input } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field, message }]);
    expect(response.status).toBe(400);
    expect(await h.system.prisma.project.count({ where: { organizationId: acme.id } })).toBe(0);
  });

  it('accepts a name of exactly 200 characters', async () => {
    expect((await createProject(acme, 'y'.repeat(200))).name).toHaveLength(200);
  });

  it('refuses an unknown status with BAD_USER_INPUT naming the field, in a variable and inline', async () => {
    const asVariable = await h.execute(CreateProject, { token: acme.owner.token, variables: { input: { name: 'x', status: 'DONE' as never } } });
    expect(errorCodes(asVariable)).toEqual(['BAD_USER_INPUT']);
    expect(asVariable.errors?.[0].message).toMatch(/"input\.status".*"DONE" does not exist in "ProjectStatus"/);
    const inline = await h.execute('mutation { createProject(input: { name: "x", status: DONE }) { project { id } } }', { token: acme.owner.token });
    expect(errorCodes(inline)).toEqual(['BAD_USER_INPUT']);
    expect(inline.errors?.[0].message).toBe('"input.status": Value "DONE" does not exist in "ProjectStatus" enum.');
    expect(inline.status).toBe(400);
    expect(await h.system.prisma.project.count({ where: { organizationId: acme.id } })).toBe(0);
  });
});

describe('projects', () => {
  it('lists only the caller\'s organization\'s projects, newest first, with totalCount', async () => {
    await createProject(acme, 'acme-1');
    await createProject(acme, 'acme-2', 'ARCHIVED');
    await createProject(globex, 'globex-1');

    const acmePage = await h.execute(ProjectsQuery, { token: acme.member.token, variables: { first: 10 } });
    expect(acmePage.data?.projects.totalCount).toBe(2);
    expect(acmePage.data?.projects.edges.map((e) => e.node.name)).toEqual(['acme-2', 'acme-1']);

    const globexPage = await h.execute(ProjectsQuery, { token: globex.member.token, variables: { first: 10 } });
    expect(globexPage.data?.projects.totalCount).toBe(1);
    expect(globexPage.data?.projects.edges.map((e) => e.node.name)).toEqual(['globex-1']);
  });

  it('filters by status', async () => {
    await createProject(acme, 'active');
    await createProject(acme, 'archived', 'ARCHIVED');
    const page = await h.execute(ProjectsQuery, { token: acme.member.token, variables: { status: 'ARCHIVED' } });
    expect(page.data?.projects.edges.map((e) => e.node.name)).toEqual(['archived']);
    expect(page.data?.projects.totalCount).toBe(1);
  });

  it('pages with cursors and ends with hasNextPage false', async () => {
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await createProject(acme, name);
    const seen: string[] = [];
    let after: string | null | undefined;
    for (let page = 0; page < 3; page += 1) {
      const response = await h.execute(ProjectsQuery, { token: acme.member.token, variables: { first: 2, after } });
      const { edges, pageInfo } = response.data!.projects;
      seen.push(...edges.map((e) => e.node.name));
      after = pageInfo.endCursor;
      expect(pageInfo.hasNextPage).toBe(page < 2);
    }
    expect(seen).toEqual(['p5', 'p4', 'p3', 'p2', 'p1']);
  });
});

describe('project(id) and node(id)', () => {
  it('returns the project to its organization and null to another, indistinguishable from a missing id', async () => {
    const project = await createProject(acme, 'secret');
    const own = await h.execute(ProjectQuery, { token: acme.member.token, variables: { id: project.id } });
    expect(own.data?.project).toMatchObject({ id: project.id, name: 'secret' });

    const foreign = await h.execute(ProjectQuery, { token: globex.owner.token, variables: { id: project.id } });
    const missing = await h.execute(ProjectQuery, {
      token: globex.owner.token,
      variables: { id: encodeGlobalID('Project', '00000000-0000-4000-8000-000000000000') },
    });
    expect(foreign).toEqual({ status: 200, data: { project: null } });
    expect(missing).toEqual(foreign);
  });

  it('node(id) behaves the same', async () => {
    const project = await createProject(acme, 'secret');
    const own = await h.execute(NodeQuery, { token: acme.member.token, variables: { id: project.id } });
    expect(own.data?.node).toEqual({ id: project.id, name: 'secret' });
    const foreign = await h.execute(NodeQuery, { token: globex.member.token, variables: { id: project.id } });
    const missing = await h.execute(NodeQuery, {
      token: globex.member.token,
      variables: { id: encodeGlobalID('Project', '00000000-0000-4000-8000-000000000000') },
    });
    expect(foreign).toEqual({ status: 200, data: { node: null } });
    expect(missing).toEqual(foreign);
  });

  it('does not show a user of another organization through node(id)', async () => {
    const own = await h.execute(NodeQuery, { token: acme.member.token, variables: { id: encodeGlobalID('User', acme.owner.id) } });
    expect(own.data?.node).toEqual({ id: encodeGlobalID('User', acme.owner.id), email: acme.owner.email });
    const foreign = await h.execute(NodeQuery, { token: acme.member.token, variables: { id: encodeGlobalID('User', globex.owner.id) } });
    expect(foreign.data?.node).toBeNull();
  });

  it('refuses a malformed id with BAD_USER_INPUT naming the field', async () => {
    const response = await h.execute(ProjectQuery, { token: acme.member.token, variables: { id: 'not-an-id' } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'id', message: 'is not a valid ID' }]);
    const wrongType = await h.execute(ProjectQuery, { token: acme.member.token, variables: { id: encodeGlobalID('User', acme.owner.id) } });
    expect(wrongType.errors?.[0].extensions?.fields).toEqual([{ field: 'id', message: 'is not a Project ID' }]);
    const node = await h.execute(NodeQuery, { token: acme.member.token, variables: { id: '%%%' } });
    expect(errorCodes(node)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('updateProject', () => {
  it('updates a project of the caller\'s organization', async () => {
    const project = await createProject(acme, 'before');
    const response = await h.execute(UpdateProject, { token: acme.owner.token, variables: { input: { id: project.id, name: 'after', status: 'COMPLETED' } } });
    expect(response.data?.updateProject.project).toMatchObject({ id: project.id, name: 'after', status: 'COMPLETED' });
  });

  it('answers NOT_FOUND "Project not found" alike for another organization\'s project and a missing one, and changes nothing', async () => {
    const project = await createProject(acme, 'untouchable');
    const foreign = await h.execute(UpdateProject, { token: globex.owner.token, variables: { input: { id: project.id, name: 'hacked' } } });
    const missing = await h.execute(UpdateProject, {
      token: globex.owner.token,
      variables: { input: { id: encodeGlobalID('Project', '00000000-0000-4000-8000-000000000000'), name: 'hacked' } },
    });
    expect(foreign.errors).toEqual([expect.objectContaining({ message: 'Project not found', extensions: { code: 'NOT_FOUND' } })]);
    expect(missing).toEqual(foreign);
    const stored = await h.execute(ProjectQuery, { token: acme.owner.token, variables: { id: project.id } });
    expect(stored.data?.project?.name).toBe('untouchable');
  });

  it('validates the input like createProject does', async () => {
    const project = await createProject(acme, 'named');
    const response = await h.execute(UpdateProject, { token: acme.owner.token, variables: { input: { id: project.id, name: 'z'.repeat(201) } } });
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'input.name', message: 'must be at most 200 characters' }]);
    const malformed = await h.execute(UpdateProject, { token: acme.owner.token, variables: { input: { id: 'nope', name: 'x' } } });
    expect(malformed.errors?.[0].extensions?.fields).toEqual([{ field: 'input.id', message: 'is not a valid ID' }]);
  });
});

describe('deleteProject', () => {
  it('deletes a project of the caller\'s organization', async () => {
    const project = await createProject(acme, 'doomed');
    const response = await h.execute(DeleteProject, { token: acme.member.token, variables: { input: { id: project.id } } });
    expect(response.data?.deleteProject.deletedProjectId).toBe(project.id);
    const after = await h.execute(ProjectQuery, { token: acme.member.token, variables: { id: project.id } });
    expect(after.data?.project).toBeNull();
  });

  it('answers NOT_FOUND for another organization\'s project and leaves it in place', async () => {
    const project = await createProject(acme, 'survivor');
    const response = await h.execute(DeleteProject, { token: globex.owner.token, variables: { input: { id: project.id } } });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Project not found', extensions: { code: 'NOT_FOUND' } })]);
    const stored = await h.execute(ProjectQuery, { token: acme.member.token, variables: { id: project.id } });
    expect(stored.data?.project?.name).toBe('survivor');
  });
});
