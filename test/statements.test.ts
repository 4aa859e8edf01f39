import { startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { ACCESS_CHECK, OPEN_READ, summarizeStatements } from './helpers/statements';
import { CreateProject, ProjectPageWithOwners, ProjectQuery } from './operations';

/**
 * "No N+1", proven by counting: every statement the gateway sends to PostgreSQL
 * is recorded at the driver (BEGIN and COMMIT included), and a page of projects
 * with their owners costs the same whatever its size and however many owners.
 */

let h: Harness;
let statements: string[] = [];

beforeAll(async () => {
  h = await startHarness({ onStatement: (sql) => statements.push(sql) });
});
afterAll(() => h.close());


async function organizationWithProjects(projects: number, owners: number): Promise<TestOrganization> {
  const org = await h.createOrganization();
  const people = [org.owner, org.admin, org.member];
  for (let i = 3; i < owners; i += 1) people.push(await h.createUser(org.id, 'MEMBER'));
  await h.system.prisma.project.createMany({
    data: Array.from({ length: projects }, (_, i) => ({ organizationId: org.id, ownerId: people[i % owners].id, name: `p${i}` })),
  });
  return org;
}

async function recordPage(org: TestOrganization, first: number): Promise<string[]> {
  statements = [];
  const response = await h.execute(ProjectPageWithOwners, { token: org.member.token, variables: { first } });
  expect(response.errors).toBeUndefined();
  expect(response.data?.projects.edges).toHaveLength(first);
  expect(response.data?.projects.edges.every((e) => e.node.owner?.email.endsWith('@example.test'))).toBe(true);
  return summarizeStatements(statements);
}

it('a page of 20 projects with 20 different owners: the access check opens the transaction, one statement reads the page with its owners joined, COMMIT', async () => {
  const org = await organizationWithProjects(25, 20);
  expect(await recordPage(org, 20)).toEqual([
    OPEN_READ, 'SELECT projects', 'COMMIT',
  ]);
});

it('costs the same for 1, 5 and 20 projects and for 1 or 20 owners', async () => {
  const many = await organizationWithProjects(20, 20);
  const few = await organizationWithProjects(20, 1);
  const counts = [
    (await recordPage(many, 1)).length,
    (await recordPage(many, 5)).length,
    (await recordPage(many, 20)).length,
    (await recordPage(few, 20)).length,
  ];
  expect(counts).toEqual([3, 3, 3, 3]);
});

it('counts the same through the Database statement counter', async () => {
  const org = await organizationWithProjects(20, 5);
  const before = h.db.statementCount();
  await recordPage(org, 20);
  expect(h.db.statementCount() - before).toBe(3);
});

it('project(id:) with its owner: one statement in the opened transaction', async () => {
  const org = await organizationWithProjects(1, 1);
  const page = await h.execute(ProjectPageWithOwners, { token: org.member.token, variables: { first: 1 } });
  const id = page.data!.projects.edges[0].node.id;
  statements = [];
  const response = await h.execute(ProjectQuery, { token: org.member.token, variables: { id } });
  expect(response.data?.project?.owner?.email).toBe(org.owner.email);
  expect(summarizeStatements(statements)).toEqual([OPEN_READ, 'SELECT projects', 'COMMIT']);
});

/** The columns of projects that the page's statement read (its select list, before FROM). */
function columnsRead(sql: string): string[] {
  const list = /^SELECT (.*?) FROM "tenantgate"\."projects"/s.exec(sql)?.[1] ?? '';
  return [...list.matchAll(/"t0"\."(\w+)"/g)].map((m) => m[1]);
}

it('a page reads only the columns its selection needs (src/tenancy/columns.ts), and every column a field reads', async () => {
  const org = await organizationWithProjects(2, 1);
  const pageOf = async (fields: string) => {
    statements = [];
    const response = await h.execute<{ projects: { edges: { node: Record<string, unknown> }[] } }, Record<string, never>>(
      `query { projects(first: 2) { edges { node { ${fields} } } } }${fields.includes('...F') ? ' fragment F on Project { visibility viewerPermissions }' : ''}`,
      { token: org.member.token },
    );
    expect(response.errors).toBeUndefined();
    return { nodes: response.data!.projects.edges.map((e) => e.node), read: columnsRead(statements.find((sql) => / FROM "tenantgate"\."projects"/.test(sql))!) };
  };
  const page = await pageOf('id name status owner { email }');
  expect(page.read.sort()).toEqual(['id', 'name', 'organization_id', 'owner_id', 'status']);
  expect(page.nodes.every((n) => (n.owner as { email: string }).email === org.owner.email)).toBe(true);
  // Through a named fragment: the sharing fields read what they compute from.
  const sharing = await pageOf('id ...F');
  expect(sharing.read).toEqual(expect.arrayContaining(['visibility', 'shared_write_org_ids']));
  expect(sharing.read).not.toContain('shared_read_org_ids');
  expect(sharing.nodes[0]).toEqual({ id: expect.any(String), visibility: 'PRIVATE', viewerPermissions: ['READ', 'WRITE', 'DELETE'] });
  const dated = await pageOf('createdAt updatedAt restrictedToDepartment { id }');
  expect(dated.read).toEqual(expect.arrayContaining(['created_at', 'updated_at', 'restricted_to_department_id']));
  expect(dated.nodes.every((n) => typeof n.createdAt === 'string' && n.restrictedToDepartment === null)).toBe(true);
});

it('a created project\'s owner in the mutation payload: one lookup after the insert', async () => {
  const org = await organizationWithProjects(0, 1);
  statements = [];
  const response = await h.execute(CreateProject, { token: org.admin.token, variables: { input: { name: 'Fresh' } } });
  expect(response.data?.createProject.project.owner?.email).toBe(org.admin.email);
  expect(summarizeStatements(statements)).toEqual([
    ACCESS_CHECK,
    // The billing gate (src/plugins/use-billing-gate.ts): may this organization write? Once per organization per 10 s.
    'BEGIN', 'SET LOCAL app.*', 'SELECT subscriptions', 'COMMIT',
    // The quota check and the insert, atomic: advisory lock, count, INSERT.
    'BEGIN', 'SET LOCAL app.*', 'SELECT', 'SELECT', 'INSERT', 'COMMIT',
    // The payload's owner, which the INSERT did not return: Pothos' batched
    // lookup of the missing selection, the owner joined.
    'BEGIN', 'SET LOCAL app.*', 'SELECT projects', 'COMMIT',
  ]);
});
