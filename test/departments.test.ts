import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { createTenantClient } from '../src/db/tenant';
import { errorCodes, type Harness, type TestOrganization, type TestUser } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { OPEN_READ, summarizeStatements } from './helpers/statements';
import {
  AssignToDepartment,
  CreateDepartment,
  CreateRestrictedProject,
  DeleteDepartment,
  DepartmentMembers,
  DepartmentQuery,
  DepartmentTree,
  ProjectVisibility,
  RestrictProject,
  UpdateDepartment,
} from './departments.operations';
import { DeleteProject, UpdateProject } from './operations';

/**
 * Departments through the GraphQL endpoint, as two organizations and every
 * role, both sides asserted; and the department-restricted projects, whose
 * visibility the database enforces (the department_restriction policy).
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
let statements: string[] = [];

twoOrganizations({ fresh: 'per test', onStatement: (sql) => statements.push(sql) }, (f) => ({ h, acme, globex } = f));

const MISSING_DEPARTMENT = encodeGlobalID('Department', '00000000-0000-4000-8000-000000000000');
const rowId = (globalId: string) => decodeGlobalID(globalId).id;

async function createDepartment(org: TestOrganization, name: string, parentId?: string) {
  const response = await h.execute(CreateDepartment, { token: org.owner.token, variables: { input: { name, parentId } } });
  expect(response.errors).toBeUndefined();
  return response.data!.createDepartment.department;
}

async function assign(org: TestOrganization, user: TestUser, departmentId: string | null) {
  const response = await h.execute(AssignToDepartment, {
    token: org.admin.token,
    variables: { input: { userId: encodeGlobalID('User', user.id), departmentId } },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.assignToDepartment.member;
}

async function memberIn(org: TestOrganization, departmentId: string): Promise<TestUser> {
  const user = await h.createUser(org.id, 'MEMBER');
  await assign(org, user, departmentId);
  return user;
}

function refusal(response: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) {
  expect(response.errors).toHaveLength(1);
  const [{ message, extensions }] = response.errors!;
  return { message, code: extensions?.code };
}

async function storedTree(org: TestOrganization) {
  const rows = await h.system.prisma.department.findMany({ where: { organizationId: org.id }, orderBy: { name: 'asc' } });
  const names = new Map(rows.map((d) => [d.id, d.name]));
  return rows.map((d) => [d.name, d.parentId && names.get(d.parentId)]);
}

describe('createDepartment and the tree', () => {
  it('builds a tree that every member reads, with parent, children (by name) and members; another organization sees none of it', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const frontend = await createDepartment(acme, 'Frontend', engineering.id);
    const backend = await createDepartment(acme, 'Backend', engineering.id);
    expect(backend).toMatchObject({ name: 'Backend', parent: { id: engineering.id, name: 'Engineering' }, children: [] });
    await assign(acme, acme.member, backend.id);
    await assign(acme, acme.admin, engineering.id);

    const tree = await h.execute(DepartmentTree, { token: acme.member.token });
    expect(tree.errors).toBeUndefined();
    expect(tree.data?.departments).toEqual([
      { id: backend.id, name: 'Backend', parent: { name: 'Engineering' }, children: [], members: [{ user: { email: acme.member.email }, role: 'MEMBER' }] },
      {
        id: engineering.id,
        name: 'Engineering',
        parent: null,
        children: [{ name: 'Backend' }, { name: 'Frontend' }],
        members: [{ user: { email: acme.admin.email }, role: 'ADMIN' }],
      },
      { id: frontend.id, name: 'Frontend', parent: { name: 'Engineering' }, children: [], members: [] },
    ]);

    const one = await h.execute(DepartmentQuery, { token: acme.member.token, variables: { id: engineering.id } });
    expect(one.data?.department).toMatchObject({ name: 'Engineering', children: [{ name: 'Backend' }, { name: 'Frontend' }] });
    expect(one.data?.node).toEqual({ id: engineering.id, name: 'Engineering' });

    const foreignTree = await h.execute(DepartmentTree, { token: globex.owner.token });
    expect(foreignTree).toEqual({ status: 200, data: { departments: [] } });
    const foreign = await h.execute(DepartmentQuery, { token: globex.owner.token, variables: { id: engineering.id } });
    const missing = await h.execute(DepartmentQuery, { token: globex.owner.token, variables: { id: MISSING_DEPARTMENT } });
    expect(foreign).toEqual({ status: 200, data: { department: null, node: null } });
    expect(missing).toEqual(foreign);
  });

  it('trims the name and refuses an empty, blank or over-long one with BAD_USER_INPUT naming the field', async () => {
    expect((await createDepartment(acme, '  Padded  ')).name).toBe('Padded');
    expect((await createDepartment(acme, 'x'.repeat(100))).name).toHaveLength(100);
    for (const [name, message] of [
      ['', 'must not be empty'],
      ['   ', 'must not be empty'],
      ['x'.repeat(101), 'must be at most 100 characters'],
    ]) {
      const response = await h.execute(CreateDepartment, { token: acme.owner.token, variables: { input: { name } } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'input.name', message }]);
    }
    expect(await h.system.prisma.department.count({ where: { organizationId: acme.id } })).toBe(2);
  });

  it("refuses another organization's department as parent with NOT_FOUND, as for a missing one, and writes nothing", async () => {
    const globexRoot = await createDepartment(globex, 'Globex HQ');
    const foreign = await h.execute(CreateDepartment, { token: acme.owner.token, variables: { input: { name: 'Spy', parentId: globexRoot.id } } });
    const missing = await h.execute(CreateDepartment, { token: acme.owner.token, variables: { input: { name: 'Spy', parentId: MISSING_DEPARTMENT } } });
    expect(refusal(foreign)).toEqual({ code: 'NOT_FOUND', message: 'Parent department not found' });
    expect(missing).toEqual(foreign);
    expect(await h.system.prisma.department.count({ where: { organizationId: acme.id } })).toBe(0);
    expect(await h.system.prisma.department.count({ where: { organizationId: globex.id } })).toBe(1);
  });

  it('refuses a parentId that is not a Department ID with BAD_USER_INPUT', async () => {
    const response = await h.execute(CreateDepartment, {
      token: acme.owner.token,
      variables: { input: { name: 'x', parentId: encodeGlobalID('User', acme.owner.id) } },
    });
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'input.parentId', message: 'is not a Department ID' }]);
  });
});

describe('updateDepartment', () => {
  it('renames, moves, makes top-level with parentId null, and leaves the parent alone when parentId is omitted', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const sales = await createDepartment(acme, 'Sales');
    const team = await createDepartment(acme, 'Team', engineering.id);

    const moved = await h.execute(UpdateDepartment, { token: acme.admin.token, variables: { input: { id: team.id, name: ' Deal Desk ', parentId: sales.id } } });
    expect(moved.data?.updateDepartment.department).toEqual({ id: team.id, name: 'Deal Desk', parent: { id: sales.id, name: 'Sales' }, children: [] });
    const renamed = await h.execute(UpdateDepartment, { token: acme.admin.token, variables: { input: { id: team.id, name: 'Desk' } } });
    expect(renamed.data?.updateDepartment.department.parent).toEqual({ id: sales.id, name: 'Sales' });
    const topLevel = await h.execute(UpdateDepartment, { token: acme.admin.token, variables: { input: { id: team.id, parentId: null } } });
    expect(topLevel.data?.updateDepartment.department).toMatchObject({ name: 'Desk', parent: null });
  });

  it('refuses to make a department its own parent, with FAILED_PRECONDITION naming it', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const response = await h.execute(UpdateDepartment, { token: acme.owner.token, variables: { input: { id: engineering.id, parentId: engineering.id } } });
    expect(refusal(response)).toEqual({ code: 'FAILED_PRECONDITION', message: 'Department "Engineering" cannot be its own parent' });
    expect(await storedTree(acme)).toEqual([['Engineering', null]]);
  });

  it('refuses to move a department under its own descendant, at any depth, naming both', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const backend = await createDepartment(acme, 'Backend', engineering.id);
    const databases = await createDepartment(acme, 'Databases', backend.id);

    for (const [target, name] of [[backend.id, 'Backend'], [databases.id, 'Databases']]) {
      const response = await h.execute(UpdateDepartment, { token: acme.owner.token, variables: { input: { id: engineering.id, parentId: target } } });
      expect(refusal(response)).toEqual({
        code: 'FAILED_PRECONDITION',
        message: `Cannot move "Engineering" under "${name}": "${name}" is inside "Engineering", which would make a cycle`,
      });
    }
    expect(await storedTree(acme)).toEqual([['Backend', 'Engineering'], ['Databases', 'Backend'], ['Engineering', null]]);
  });

  it("answers NOT_FOUND for another organization's department and for another organization's parent, and changes nothing", async () => {
    const acmeRoot = await createDepartment(acme, 'Acme HQ');
    const globexRoot = await createDepartment(globex, 'Globex HQ');

    const foreign = await h.execute(UpdateDepartment, { token: globex.owner.token, variables: { input: { id: acmeRoot.id, name: 'hacked' } } });
    const missing = await h.execute(UpdateDepartment, { token: globex.owner.token, variables: { input: { id: MISSING_DEPARTMENT, name: 'hacked' } } });
    expect(refusal(foreign)).toEqual({ code: 'NOT_FOUND', message: 'Department not found' });
    expect(missing).toEqual(foreign);

    const foreignParent = await h.execute(UpdateDepartment, { token: acme.owner.token, variables: { input: { id: acmeRoot.id, parentId: globexRoot.id } } });
    expect(refusal(foreignParent)).toEqual({ code: 'NOT_FOUND', message: 'Parent department not found' });
    expect(await storedTree(acme)).toEqual([['Acme HQ', null]]);
    expect(await storedTree(globex)).toEqual([['Globex HQ', null]]);
  });
});

describe('deleteDepartment', () => {
  it('deletes an empty department', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const response = await h.execute(DeleteDepartment, { token: acme.admin.token, variables: { input: { id: engineering.id } } });
    expect(response.data?.deleteDepartment.deletedDepartmentId).toBe(engineering.id);
    const after = await h.execute(DepartmentQuery, { token: acme.admin.token, variables: { id: engineering.id } });
    expect(after.data?.department).toBeNull();
    expect(await h.system.prisma.department.count({ where: { organizationId: acme.id } })).toBe(0);
  });

  it('refuses while it has sub-departments, members or restricted projects, saying which, and deletes once they are gone', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const frontend = await createDepartment(acme, 'Frontend', engineering.id);
    const backend = await createDepartment(acme, 'Backend', engineering.id);
    const deleteEngineering = () => h.execute(DeleteDepartment, { token: acme.owner.token, variables: { input: { id: engineering.id } } });

    expect(refusal(await deleteEngineering())).toEqual({
      code: 'FAILED_PRECONDITION',
      message: 'Department "Engineering" still has 2 sub-departments (Backend, Frontend); move them first.',
    });

    for (const user of [acme.owner, acme.admin, acme.member]) await assign(acme, user, engineering.id);
    const withMembers = await deleteEngineering();
    expect(refusal(withMembers)).toEqual({
      code: 'FAILED_PRECONDITION',
      message: 'Department "Engineering" still has 2 sub-departments (Backend, Frontend) and 3 members; move them first.',
    });
    expect(withMembers.errors?.[0].extensions).toMatchObject({ subDepartments: 2, members: 3, restrictedProjects: 0 });

    const apollo = await h.execute(CreateRestrictedProject, { token: acme.owner.token, variables: { input: { name: 'Apollo', restrictedToDepartmentId: engineering.id } } });
    expect(refusal(await deleteEngineering()).message).toBe(
      'Department "Engineering" still has 2 sub-departments (Backend, Frontend), 3 members, and 1 restricted project (Apollo); move them first.',
    );

    for (const id of [frontend.id, backend.id]) {
      expect((await h.execute(DeleteDepartment, { token: acme.owner.token, variables: { input: { id } } })).errors).toBeUndefined();
    }
    for (const user of [acme.owner, acme.admin]) await assign(acme, user, null);
    expect(refusal(await deleteEngineering()).message).toBe('Department "Engineering" still has 1 member and 1 restricted project (Apollo); move them first.');
    await assign(acme, acme.member, null);
    expect(refusal(await deleteEngineering()).message).toBe('Department "Engineering" still has 1 restricted project (Apollo); move them first.');

    const unrestricted = await h.execute(RestrictProject, {
      token: acme.owner.token,
      variables: { input: { id: apollo.data!.createProject.project.id, restrictedToDepartmentId: null } },
    });
    expect(unrestricted.data?.updateProject.project.restrictedToDepartment).toBeNull();
    expect((await deleteEngineering()).data?.deleteDepartment.deletedDepartmentId).toBe(engineering.id);
  });

  it("answers NOT_FOUND for another organization's department and leaves it in place", async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const foreign = await h.execute(DeleteDepartment, { token: globex.owner.token, variables: { input: { id: engineering.id } } });
    const missing = await h.execute(DeleteDepartment, { token: globex.owner.token, variables: { input: { id: MISSING_DEPARTMENT } } });
    expect(refusal(foreign)).toEqual({ code: 'NOT_FOUND', message: 'Department not found' });
    expect(missing).toEqual(foreign);
    expect(await storedTree(acme)).toEqual([['Engineering', null]]);
  });
});

describe('assignToDepartment', () => {
  it('assigns a member, moves it, and takes it out with departmentId null', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const sales = await createDepartment(acme, 'Sales');
    expect(await assign(acme, acme.member, engineering.id)).toEqual({
      user: { id: encodeGlobalID('User', acme.member.id), email: acme.member.email },
      department: { id: engineering.id, name: 'Engineering' },
    });
    expect((await assign(acme, acme.member, sales.id)).department?.name).toBe('Sales');
    expect((await assign(acme, acme.member, null)).department).toBeNull();
    const stored = await h.system.prisma.membership.findUniqueOrThrow({ where: { organizationId_userId: { organizationId: acme.id, userId: acme.member.id } } });
    expect(stored.departmentId).toBeNull();
  });

  it("answers NOT_FOUND \"Member not found\" for another organization's user and \"Department not found\" for another organization's department", async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const globexRoot = await createDepartment(globex, 'Globex HQ');

    const foreignUser = await h.execute(AssignToDepartment, {
      token: acme.owner.token,
      variables: { input: { userId: encodeGlobalID('User', globex.member.id), departmentId: engineering.id } },
    });
    expect(refusal(foreignUser)).toEqual({ code: 'NOT_FOUND', message: 'Member not found' });
    const foreignDepartment = await h.execute(AssignToDepartment, {
      token: acme.owner.token,
      variables: { input: { userId: encodeGlobalID('User', acme.member.id), departmentId: globexRoot.id } },
    });
    expect(refusal(foreignDepartment)).toEqual({ code: 'NOT_FOUND', message: 'Department not found' });

    const memberships = await h.system.prisma.membership.findMany({ where: { userId: { in: [acme.member.id, globex.member.id] } } });
    expect(memberships.map((m) => m.departmentId)).toEqual([null, null]);
  });
});

describe('departmentMembers', () => {
  it('lists the members of the department, and with includeDescendants those of its sub-departments at any depth', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const backend = await createDepartment(acme, 'Backend', engineering.id);
    const databases = await createDepartment(acme, 'Databases', backend.id);
    const sales = await createDepartment(acme, 'Sales');
    const lead = await memberIn(acme, engineering.id);
    const dev = await memberIn(acme, backend.id);
    const dba = await memberIn(acme, databases.id);
    await memberIn(acme, sales.id);

    const members = (departmentId: string, includeDescendants?: boolean, token = acme.member.token) =>
      h.execute(DepartmentMembers, { token, variables: { departmentId, includeDescendants } }).then((r) => r.data?.departmentMembers);

    expect(await members(engineering.id)).toEqual([{ user: { email: lead.email }, department: { name: 'Engineering' } }]);
    expect(await members(engineering.id, false)).toEqual(await members(engineering.id));
    expect(await members(engineering.id, true)).toEqual([
      { user: { email: lead.email }, department: { name: 'Engineering' } },
      { user: { email: dev.email }, department: { name: 'Backend' } },
      { user: { email: dba.email }, department: { name: 'Databases' } },
    ]);
    expect((await members(backend.id, true))?.map((m) => m.user.email)).toEqual([dev.email, dba.email]);
    expect(await members(engineering.id, true, globex.owner.token)).toEqual([]);
  });
});

describe('who may manage departments', () => {
  it('gives members FORBIDDEN on every department mutation and changes nothing; owners and admins may', async () => {
    const engineering = await createDepartment(acme, 'Engineering');
    const attempts = [
      h.execute(CreateDepartment, { token: acme.member.token, variables: { input: { name: 'Mine' } } }),
      h.execute(UpdateDepartment, { token: acme.member.token, variables: { input: { id: engineering.id, name: 'Mine' } } }),
      h.execute(DeleteDepartment, { token: acme.member.token, variables: { input: { id: engineering.id } } }),
      h.execute(AssignToDepartment, {
        token: acme.member.token,
        variables: { input: { userId: encodeGlobalID('User', acme.member.id), departmentId: engineering.id } },
      }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(refusal(response)).toEqual({ code: 'FORBIDDEN', message: 'Requires the role OWNER or ADMIN' });
    }
    expect(await storedTree(acme)).toEqual([['Engineering', null]]);
    expect((await h.execute(DepartmentTree, { token: acme.member.token })).data?.departments.map((d) => d.name)).toEqual(['Engineering']);

    const byAdmin = await h.execute(CreateDepartment, { token: acme.admin.token, variables: { input: { name: 'Sales' } } });
    expect(byAdmin.data?.createDepartment.department.name).toBe('Sales');
  });
});

describe('department-restricted projects', () => {
  // Company > Engineering > Backend, and Sales beside Engineering.
  let company: { id: string };
  let engineering: { id: string };
  let sales: { id: string };
  let engineer: TestUser;
  let backender: TestUser;
  let seller: TestUser;
  let executive: TestUser;
  let apollo: string;

  beforeEach(async () => {
    company = await createDepartment(acme, 'Company');
    engineering = await createDepartment(acme, 'Engineering', company.id);
    const backend = await createDepartment(acme, 'Backend', engineering.id);
    sales = await createDepartment(acme, 'Sales', company.id);
    engineer = await memberIn(acme, engineering.id);
    backender = await memberIn(acme, backend.id);
    seller = await memberIn(acme, sales.id);
    executive = await memberIn(acme, company.id);
    const created = await h.execute(CreateRestrictedProject, {
      token: acme.owner.token,
      variables: { input: { name: 'Apollo', restrictedToDepartmentId: engineering.id } },
    });
    expect(created.data?.createProject.project.restrictedToDepartment).toEqual({ id: engineering.id, name: 'Engineering' });
    apollo = created.data!.createProject.project.id;
    await h.system.prisma.project.create({ data: { organizationId: acme.id, ownerId: acme.owner.id, name: 'Open' } });
  });

  const visibility = (user: TestUser) => h.execute(ProjectVisibility, { token: user.token, variables: { id: apollo, departmentId: engineering.id } });

  async function expectVisible(user: TestUser) {
    const response = await visibility(user);
    expect(response.errors).toBeUndefined();
    expect(response.data?.projects.totalCount).toBe(2);
    expect(response.data?.projects.edges.map((e) => e.node.name).sort()).toEqual(['Apollo', 'Open']);
    expect(response.data?.project).toEqual({ id: apollo, name: 'Apollo', restrictedToDepartment: { name: 'Engineering' } });
    expect(response.data?.node).toEqual({ id: apollo });
    expect(response.data?.department?.restrictedProjects).toEqual({ totalCount: 1, edges: [{ node: { id: apollo } }] });
  }

  async function expectInvisible(user: TestUser) {
    const response = await visibility(user);
    expect(response.errors).toBeUndefined();
    expect(response.data?.projects.totalCount).toBe(1);
    expect(response.data?.projects.edges.map((e) => e.node.name)).toEqual(['Open']);
    expect(response.data?.project).toBeNull();
    expect(response.data?.node).toBeNull();
    expect(response.data?.department?.restrictedProjects).toEqual({ totalCount: 0, edges: [] });

    const update = await h.execute(UpdateProject, { token: user.token, variables: { input: { id: apollo, name: 'hacked' } } });
    const remove = await h.execute(DeleteProject, { token: user.token, variables: { input: { id: apollo } } });
    expect(refusal(update)).toEqual({ code: 'NOT_FOUND', message: 'Project not found' });
    expect(refusal(remove)).toEqual({ code: 'NOT_FOUND', message: 'Project not found' });
    const stored = await h.system.prisma.project.findUniqueOrThrow({ where: { organizationId_id: { organizationId: acme.id, id: rowId(apollo) } } });
    expect(stored.name).toBe('Apollo');
  }

  it('is visible everywhere to the owner, an admin, a member of its department and a member of a sub-department', async () => {
    for (const user of [acme.owner, acme.admin, engineer, backender]) await expectVisible(user);
  });

  it('does not exist for a member without a department, of a sibling department, or of the parent department', async () => {
    for (const user of [acme.member, seller, executive]) await expectInvisible(user);
  });

  it('follows an assignment: moved out, the member loses it on its next request; moved back, it sees it again', async () => {
    await expectVisible(engineer);
    await assign(acme, engineer, sales.id);
    await expectInvisible(engineer);
    await assign(acme, engineer, engineering.id);
    await expectVisible(engineer);
  });

  it('lifting the restriction (null) shows it to everyone; a restricted project can be restricted again', async () => {
    const lifted = await h.execute(RestrictProject, { token: acme.admin.token, variables: { input: { id: apollo, restrictedToDepartmentId: null } } });
    expect(lifted.data?.updateProject.project.restrictedToDepartment).toBeNull();
    expect((await visibility(seller)).data?.project?.name).toBe('Apollo');
    const renamed = await h.execute(RestrictProject, { token: acme.admin.token, variables: { input: { id: apollo, restrictedToDepartmentId: sales.id } } });
    expect(renamed.data?.updateProject.project.restrictedToDepartment).toEqual({ id: sales.id, name: 'Sales' });
    expect((await visibility(seller)).data?.project?.name).toBe('Apollo');
    expect((await visibility(engineer)).data?.project).toBeNull();
  });

  it("is enforced by the database: raw SQL through a plain member's tenant client does not count it", async () => {
    const count = async (role: 'OWNER' | 'MEMBER', departmentPath: string[]) => {
      const db = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.member.id, role, departmentPath });
      const [row] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM projects`;
      return row.count;
    };
    expect(await count('MEMBER', [])).toBe(1);
    expect(await count('MEMBER', [rowId(sales.id), rowId(company.id)])).toBe(1);
    expect(await count('MEMBER', [rowId(engineering.id), rowId(company.id)])).toBe(2);
    expect(await count('OWNER', [])).toBe(2);
  });

  it("refuses a restriction to another organization's department with NOT_FOUND, for owners and members alike, and writes nothing", async () => {
    const globexRoot = await createDepartment(globex, 'Globex HQ');
    for (const token of [acme.owner.token, engineer.token]) {
      const create = await h.execute(CreateRestrictedProject, { token, variables: { input: { name: 'Leak', restrictedToDepartmentId: globexRoot.id } } });
      expect(refusal(create)).toEqual({ code: 'NOT_FOUND', message: 'Department not found' });
      const missing = await h.execute(CreateRestrictedProject, { token, variables: { input: { name: 'Leak', restrictedToDepartmentId: MISSING_DEPARTMENT } } });
      expect(missing).toEqual(create);
    }
    const update = await h.execute(RestrictProject, { token: acme.owner.token, variables: { input: { id: apollo, restrictedToDepartmentId: globexRoot.id } } });
    expect(refusal(update)).toEqual({ code: 'NOT_FOUND', message: 'Department not found' });
    const stored = await h.system.prisma.project.findMany({ where: { organizationId: acme.id }, orderBy: { name: 'asc' } });
    expect(stored.map((p) => [p.name, p.restrictedToDepartmentId])).toEqual([['Apollo', rowId(engineering.id)], ['Open', null]]);
  });

  it('lets a member restrict a project to its own department or one above it, and refuses one that would hide it from the member', async () => {
    const own = await h.execute(CreateRestrictedProject, { token: engineer.token, variables: { input: { name: 'Mine', restrictedToDepartmentId: engineering.id } } });
    expect(own.data?.createProject.project.restrictedToDepartment?.name).toBe('Engineering');
    const above = await h.execute(CreateRestrictedProject, { token: backender.token, variables: { input: { name: 'Ours', restrictedToDepartmentId: engineering.id } } });
    expect(above.data?.createProject.project.restrictedToDepartment?.name).toBe('Engineering');

    const elsewhere = await h.execute(CreateRestrictedProject, { token: engineer.token, variables: { input: { name: 'Theirs', restrictedToDepartmentId: sales.id } } });
    expect(refusal(elsewhere)).toEqual({
      code: 'FORBIDDEN',
      message: 'A project restricted to "Sales" would be hidden from you: restrict it to your own department or one above it',
    });
    const mine = own.data!.createProject.project.id;
    const moveAway = await h.execute(RestrictProject, { token: engineer.token, variables: { input: { id: mine, restrictedToDepartmentId: sales.id } } });
    expect(refusal(moveAway).code).toBe('FORBIDDEN');
    expect(await h.system.prisma.project.count({ where: { organizationId: acme.id, restrictedToDepartmentId: rowId(sales.id) } })).toBe(0);
  });
});

describe('statements', () => {

  async function record(run: () => Promise<{ errors?: unknown }>): Promise<string[]> {
    statements = [];
    const response = await run();
    expect(response.errors).toBeUndefined();
    return summarizeStatements(statements);
  }

  async function organizationWithTree(departments: number): Promise<TestOrganization> {
    const org = await h.createOrganization();
    const root = await createDepartment(org, 'Root');
    for (let i = 0; i < departments; i += 1) {
      const department = await createDepartment(org, `D${i}`, root.id);
      await memberIn(org, department.id);
    }
    return org;
  }

  it('the whole tree with parents, children, members and their users costs the same for 2 departments as for 12', async () => {
    const [few, many] = [await organizationWithTree(1), await organizationWithTree(11)];
    const small = await record(() => h.execute(DepartmentTree, { token: few.member.token }));
    const large = await record(() => h.execute(DepartmentTree, { token: many.member.token }));
    expect(large).toEqual(small);
    expect(large).toEqual([
      // Parents, children and members joined into the departments query (Prisma's join strategy).
      OPEN_READ, 'SELECT departments', 'SELECT users', 'COMMIT',
    ]);
  });

  it('departmentMembers with descendants: the subtree and its members in one transaction', async () => {
    const org = await organizationWithTree(5);
    const [root] = (await h.execute(DepartmentTree, { token: org.member.token })).data!.departments.filter((d) => d.name === 'Root');
    const list = await record(() => h.execute(DepartmentMembers, { token: org.member.token, variables: { departmentId: root.id, includeDescendants: true } }));
    expect(list).toEqual([
      OPEN_READ, 'SELECT subtree', 'SELECT memberships', 'SELECT users', 'COMMIT',
    ]);
  });
});
