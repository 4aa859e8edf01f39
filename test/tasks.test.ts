import { encodeGlobalID } from '@pothos/plugin-relay';
import { errorCodes, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { OPEN_READ, summarizeStatements } from './helpers/statements';

/**
 * Task, the worked example of a model of one's own: built only with
 * tenantModel('Task', …) (src/schema/tasks/task.type.ts) on a migration that
 * `npm run tenancy:migration` wrote. Every test runs as two organizations and
 * asserts both sides.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
let statements: string[] = [];
twoOrganizations({ fresh: 'per test', onStatement: (sql) => statements.push(sql) }, (f) => ({ h, acme, globex } = f));

const TASK_FIELDS = 'id title status dueDate project { id name } assignee { id email }';
const CREATE = `mutation($input: CreateTaskInput!) { createTask(input: $input) { task { ${TASK_FIELDS} } } }`;
const UPDATE = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { task { ${TASK_FIELDS} } } }`;
const DELETE = `mutation($input: DeleteTaskInput!) { deleteTask(input: $input) { deletedTaskId } }`;
const GET = `query($id: ID!) { task(id: $id) { ${TASK_FIELDS} } node(id: $id) { id ... on Task { title } } }`;
const PAGE = `query($first: Int, $filter: TaskFilter, $orderBy: TaskOrderBy) {
  tasks(first: $first, filter: $filter, orderBy: $orderBy) { totalCount edges { node { id title status dueDate assignee { email } } } } }`;

interface TaskShape { id: string; title: string; status: string; dueDate: string | null; project: { id: string; name: string } | null; assignee: { id: string; email: string } | null }

async function projectOf(org: TestOrganization, name = 'Launch'): Promise<string> {
  const row = await h.system.prisma.project.create({ data: { organizationId: org.id, ownerId: org.owner.id, name } });
  return encodeGlobalID('Project', row.id);
}

async function createTask(org: TestOrganization, input: Record<string, unknown>, token = org.member.token) {
  return h.execute<{ createTask: { task: TaskShape } }, unknown>(CREATE, { token, variables: { input } });
}

it('creates a task in a project of the organization, assigned to a member; the other organization sees nothing of it', async () => {
  const project = await projectOf(acme);
  const created = await createTask(acme, { title: '  Ship it ', projectId: project, assigneeId: encodeGlobalID('User', acme.admin.id), dueDate: '2026-12-24' });
  expect(created.errors).toBeUndefined();
  const task = created.data!.createTask.task;
  expect(task).toEqual({
    id: expect.any(String), title: 'Ship it', status: 'TODO', dueDate: '2026-12-24',
    project: { id: project, name: 'Launch' }, assignee: { id: encodeGlobalID('User', acme.admin.id), email: acme.admin.email },
  });

  const mine = await h.execute<{ task: TaskShape | null; node: { id: string } | null }, unknown>(GET, { token: acme.owner.token, variables: { id: task.id } });
  expect(mine.data).toEqual({ task: { ...task }, node: { id: task.id, title: 'Ship it' } });
  const theirs = await h.execute(GET, { token: globex.owner.token, variables: { id: task.id } });
  expect(theirs).toMatchObject({ data: { task: null, node: null } });
  expect(theirs.errors).toBeUndefined();

  const pages = await Promise.all([acme, globex].map((org) => h.execute<{ tasks: { totalCount: number } }, unknown>(PAGE, { token: org.owner.token, variables: { first: 10 } })));
  expect(pages.map((p) => p.data?.tasks.totalCount)).toEqual([1, 0]);
});

it('update and delete: another organization\'s task is the same NOT_FOUND as a missing one, and stays as it was', async () => {
  const created = await createTask(acme, { title: 'Draft', projectId: await projectOf(acme) });
  const id = created.data!.createTask.task.id;
  const missing = encodeGlobalID('Task', '00000000-0000-7000-8000-000000000000');
  for (const target of [id, missing]) {
    const update = await h.execute(UPDATE, { token: globex.owner.token, variables: { input: { id: target, title: 'Hijacked' } } });
    const remove = await h.execute(DELETE, { token: globex.owner.token, variables: { input: { id: target } } });
    expect([update.errors?.[0]?.message, ...errorCodes(update), remove.errors?.[0]?.message, ...errorCodes(remove)]).toEqual(['Task not found', 'NOT_FOUND', 'Task not found', 'NOT_FOUND']);
  }
  expect(await h.system.prisma.task.findMany({ where: { organizationId: acme.id }, select: { title: true } })).toEqual([{ title: 'Draft' }]);

  const update = await h.execute<{ updateTask: { task: TaskShape } }, unknown>(UPDATE, { token: acme.member.token, variables: { input: { id, status: 'DONE', dueDate: null } } });
  expect(update.data?.updateTask.task).toMatchObject({ title: 'Draft', status: 'DONE', dueDate: null });
  const remove = await h.execute<{ deleteTask: { deletedTaskId: string } }, unknown>(DELETE, { token: acme.member.token, variables: { input: { id } } });
  expect(remove.data?.deleteTask.deletedTaskId).toBe(id);
  expect(await h.system.prisma.task.count({ where: { organizationId: acme.id } })).toBe(0);
});

it("refuses another organization's project or member as NOT_FOUND (the composite foreign keys), and bad input as BAD_USER_INPUT naming the field", async () => {
  const theirProject = await projectOf(globex);
  const foreignProject = await createTask(acme, { title: 'x', projectId: theirProject });
  expect([foreignProject.errors?.[0]?.message, ...errorCodes(foreignProject)]).toEqual(['Project not found', 'NOT_FOUND']);

  const foreignAssignee = await createTask(acme, { title: 'x', projectId: await projectOf(acme), assigneeId: encodeGlobalID('User', globex.owner.id) });
  expect([foreignAssignee.errors?.[0]?.message, ...errorCodes(foreignAssignee)]).toEqual(['Member not found', 'NOT_FOUND']);

  const empty = await createTask(acme, { title: '   ', projectId: await projectOf(acme) });
  expect(errorCodes(empty)).toEqual(['BAD_USER_INPUT']);
  expect(empty.errors?.[0]?.extensions?.fields).toEqual([{ field: 'input.title', message: 'must not be empty' }]);
  const wrongType = await createTask(acme, { title: 'x', projectId: encodeGlobalID('Task', acme.id) });
  expect(wrongType.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.projectId', message: 'is not a Project ID' }] });
  expect(await h.system.prisma.task.count({ where: { organizationId: { in: [acme.id, globex.id] } } })).toBe(0);
});

it('filters by status and orders by an indexed column; a page costs the same statements whatever its size', async () => {
  const projectId = (await h.system.prisma.project.create({ data: { organizationId: acme.id, ownerId: acme.owner.id, name: 'Big' } })).id;
  const assignees = [acme.owner.id, acme.admin.id, acme.member.id];
  await h.system.prisma.task.createMany({
    data: Array.from({ length: 25 }, (_, i) => ({
      organizationId: acme.id, projectId, title: `t${i}`, status: i % 5 === 0 ? ('DONE' as const) : ('TODO' as const),
      assigneeId: assignees[i % 3], dueDate: new Date(Date.UTC(2027, 0, 1 + i)),
    })),
  });
  const done = await h.execute<{ tasks: { totalCount: number; edges: { node: TaskShape }[] } }, unknown>(PAGE, {
    token: acme.member.token, variables: { first: 10, filter: { status: ['DONE'] }, orderBy: { field: 'DUE_DATE', direction: 'ASC' } },
  });
  expect(done.data?.tasks.totalCount).toBe(5);
  expect(done.data?.tasks.edges.map((e) => e.node.title)).toEqual(['t0', 't5', 't10', 't15', 't20']);

  const counts: number[] = [];
  for (const first of [2, 20]) {
    statements = [];
    const page = await h.execute<{ tasks: { edges: { node: TaskShape }[] } }, unknown>(PAGE, { token: acme.member.token, variables: { first } });
    expect(page.data?.tasks.edges).toHaveLength(first);
    expect(page.data?.tasks.edges.every((e) => e.node.assignee?.email.endsWith('@example.test'))).toBe(true);
    counts.push(statements.length);
    // The page with its assignees joined, and totalCount's count.
    expect(summarizeStatements(statements)).toEqual([OPEN_READ, 'SELECT tasks', 'SELECT tasks', 'COMMIT']);
  }
  expect(counts[0]).toBe(counts[1]);
});

it('counts against the TASKS quota of the plan (data in plan_limits), overridable per organization', async () => {
  await h.system.prisma.quotaOverride.create({ data: { organizationId: acme.id, resource: 'TASKS', limit: 1n } });
  const projectId = await projectOf(acme);
  expect((await createTask(acme, { title: 'one', projectId })).errors).toBeUndefined();
  const second = await createTask(acme, { title: 'two', projectId });
  expect(second.errors?.[0]).toMatchObject({ message: 'Task limit reached (1). Upgrade to create more.', extensions: { code: 'QUOTA_EXCEEDED', resource: 'TASKS', limit: 1, used: 1 } });
  // Globex's FREE plan has room: 100 tasks.
  expect((await createTask(globex, { title: 'one', projectId: await projectOf(globex) })).errors).toBeUndefined();
  const limits = await h.system.prisma.planLimit.findMany({ where: { resource: 'TASKS' }, orderBy: { plan: 'asc' } });
  expect(limits.map((l) => [l.plan, l.limit])).toEqual([['FREE', 100n], ['PRO', 10000n], ['ENTERPRISE', null]]);
});
