import { sendMessage } from '../src/db/send-query';
import { createTenantClient, scopeStatement, type TenantClient } from '../src/db/tenant';
import { compileRead, findMany, findOne } from '../src/tenancy/compiled-read';
import { USER_COLUMNS } from '../src/schema/users/user.type';
import { startHarness, type Harness, type TestOrganization } from './helpers/harness';

/**
 * The compiled read path (src/tenancy/compiled-read.ts) against Prisma's own
 * operations: the same argument objects, in the same held read transaction,
 * must give the same rows (values, types, nulls, order), and a shape it does
 * not compile must say so (null) rather than read something else.
 */

let h: Harness;
let org: TestOrganization;
let other: TestOrganization;
const statements: string[] = [];

beforeAll(async () => {
  h = await startHarness({ onStatement: (sql) => statements.push(sql) });
  org = await h.createOrganization();
  other = await h.createOrganization();
  const department = await h.system.prisma.department.create({ data: { organizationId: org.id, name: 'Engineering' } });
  const people = [org.owner, org.admin, org.member];
  // Several projects per millisecond: ties on created_at are broken by the id.
  await h.system.prisma.project.createMany({
    data: Array.from({ length: 23 }, (_, i) => ({
      organizationId: org.id,
      ownerId: people[i % 3].id,
      name: `p${String(i % 7)}`,
      status: i % 4 === 0 ? ('ARCHIVED' as const) : ('ACTIVE' as const),
      restrictedToDepartmentId: i % 5 === 0 ? department.id : null,
    })),
  });
  const project = await h.system.prisma.project.findFirstOrThrow({ where: { organizationId: org.id } });
  await h.system.prisma.task.createMany({
    data: Array.from({ length: 9 }, (_, i) => ({
      organizationId: org.id,
      projectId: project.id,
      title: `t${i}`,
      dueDate: i % 2 ? new Date(Date.UTC(2026, 11, i + 1)) : null,
      assigneeId: i % 3 ? people[i % 3].id : null,
    })),
  });
  await h.system.prisma.project.create({ data: { organizationId: other.id, ownerId: other.owner.id, name: 'theirs' } });
});
afterAll(() => h.close());

/** `fn` with a tenant client on a held read transaction of `organization`, as a query's. */
async function inHeldTransaction<T>(organization: TestOrganization, fn: (client: TenantClient) => Promise<T>): Promise<T> {
  const connection = await h.db.pool.connect();
  const scope = { organizationId: organization.id, userId: organization.owner.id, role: 'OWNER' as const };
  await sendMessage(connection, ['BEGIN READ ONLY', scopeStatement(scope)]);
  const held = h.db.holdTransaction(connection);
  try {
    return await fn(createTenantClient(h.db.prisma, scope, { held }));
  } finally {
    await held.end('ROLLBACK');
  }
}

const ownOrder = (direction: 'asc' | 'desc') => [{ createdAt: direction }, { id: direction }];

/** Compiles (it must), then compares with Prisma's findMany on the same transaction. */
async function same(client: TenantClient, model: 'Project' | 'Task', args: Record<string, unknown>) {
  expect(compileRead(model, args)).not.toBeNull();
  const delegate = (model === 'Project' ? client.project : client.task) as unknown as { findMany(a: object): Promise<unknown[]> };
  const expected = await delegate.findMany(args);
  const compiled = await findMany(client, model, args);
  expect(compiled).toEqual(expected);
  return compiled;
}

it('reads a page as Prisma does: owner joined, columns omitted, filters, both orders, limits', async () => {
  await inHeldTransaction(org, async (client) => {
    const page = await same(client, 'Project', {
      include: { ownerUser: { select: USER_COLUMNS } },
      omit: { sharedReadOrgIds: true, updatedAt: true },
      where: { organizationId: org.id },
      orderBy: ownOrder('desc'),
      take: 21,
      skip: 0,
    });
    expect(page).toHaveLength(21);
    expect((page[0].ownerUser as { email: string }).email).toMatch(/@example\.test$/);
    expect(page[0].createdAt).toBeInstanceOf(Date);
    expect(page[0]).not.toHaveProperty('updatedAt');
    await same(client, 'Project', { where: { status: { in: ['ARCHIVED'] } }, orderBy: ownOrder('asc'), take: 5 });
    await same(client, 'Project', { where: { status: 'ACTIVE', restrictedToDepartmentId: null }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
    await same(client, 'Project', { where: { AND: [{ createdAt: { gte: new Date(0) } }, { createdAt: { lt: new Date(Date.now() + 60_000) } }] }, orderBy: ownOrder('desc'), take: 3, skip: 2 });
    await same(client, 'Project', { include: { restrictedToDepartment: true, ownerUser: true }, orderBy: ownOrder('desc') });
    await same(client, 'Project', { select: { id: true, name: true, ownerUser: { select: { email: true } }, restrictedToDepartment: { select: { name: true } } }, orderBy: ownOrder('desc') });
  });
});

it('pages with cursors forwards and backwards exactly as Prisma does, through every page', async () => {
  await inHeldTransaction(org, async (client) => {
    for (const direction of ['asc', 'desc'] as const) {
      for (const take of [4, -4]) {
        let cursor: Record<string, unknown> | undefined;
        let pages = 0;
        for (;;) {
          const rows = await same(client, 'Project', {
            where: { organizationId: org.id },
            orderBy: ownOrder(direction),
            take,
            ...(cursor ? { cursor: { organizationId_id: cursor }, skip: 1 } : { skip: 0 }),
          });
          pages += 1;
          if (rows.length < Math.abs(take)) break;
          const edge = take > 0 ? rows[rows.length - 1] : rows[0];
          cursor = { organizationId: edge.organizationId, id: edge.id };
        }
        expect(pages).toBe(6);
      }
    }
    // A cursor whose row is not there (or not visible): nothing, as Prisma.
    await same(client, 'Project', { cursor: { organizationId_id: { organizationId: other.id, id: '01900000-0000-7000-8000-000000000000' } }, orderBy: ownOrder('desc'), take: 3, skip: 1 });
  });
});

it('reads nested to-one relations, dates and nulls as Prisma does (tasks with their assignee)', async () => {
  await inHeldTransaction(org, async (client) => {
    const tasks = await same(client, 'Task', {
      include: { assignee: { select: { user: { select: USER_COLUMNS } } } },
      orderBy: ownOrder('desc'),
      take: 20,
    });
    expect(tasks.some((t) => t.assignee === null)).toBe(true);
    expect(tasks.some((t) => t.dueDate instanceof Date && (t.dueDate as Date).toISOString().endsWith('T00:00:00.000Z'))).toBe(true);
    await same(client, 'Task', { where: { dueDate: { gte: new Date(Date.UTC(2026, 11, 3)) } }, orderBy: [{ dueDate: 'asc' }, { id: 'asc' }] });
  });
});

it('finds one row by id or by its key, under RLS: another organization\'s row is not found', async () => {
  const mine = await h.system.prisma.project.findFirstOrThrow({ where: { organizationId: org.id } });
  const theirs = await h.system.prisma.project.findFirstOrThrow({ where: { organizationId: other.id } });
  await inHeldTransaction(org, async (client) => {
    const args = { include: { ownerUser: { select: USER_COLUMNS } }, where: { id: mine.id } };
    expect(await findOne(client, 'Project', args)).toEqual(await client.project.findFirst(args));
    const key = { where: { organizationId_id: { organizationId: org.id, id: mine.id } } };
    expect(await findOne(client, 'Project', key, true)).toEqual(await client.project.findUnique(key));
    expect(await findOne(client, 'Project', { where: { id: theirs.id } })).toBeNull();
    expect(await findOne(client, 'Project', { where: { organizationId_id: { organizationId: other.id, id: theirs.id } } }, true)).toBeNull();
    // No filter at all: RLS still shows only the organization's own rows.
    const all = await findMany(client, 'Project', {});
    expect(all).toHaveLength(23);
    expect(all.every((row) => row.organizationId === org.id)).toBe(true);
  });
});

it('runs as a named prepared statement on the held connection, and only there', async () => {
  statements.length = 0;
  const prepared = await inHeldTransaction(org, async (client) => {
    await findMany(client, 'Project', { where: { organizationId: org.id }, orderBy: ownOrder('desc'), take: 2 });
    // The session's own prepared statements: the held connection's.
    return client.$queryRawUnsafe<{ name: string }[]>(`SELECT name FROM pg_prepared_statements WHERE statement LIKE 'SELECT "t0"%'`);
  });
  expect(statements.filter((s) => s.startsWith('SELECT "t0"'))).toHaveLength(1);
  expect(prepared.length).toBeGreaterThanOrEqual(1);
  expect(prepared.every((p) => p.name.startsWith('tg_'))).toBe(true);
  // A client that holds no read transaction (a mutation's) runs Prisma's operation instead.
  const scoped = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id, role: 'OWNER' });
  expect(scoped.$compiledReads).toBe(false);
  expect(scoped.$readRows({ text: 'SELECT 1', values: [] })).toBeNull();
  expect(await findMany(scoped, 'Project', { where: { organizationId: org.id }, take: 2 })).toHaveLength(2);
});

it('refuses a cursor that names no row key as BAD_USER_INPUT; a well-formed cursor of no row is an empty page', async () => {
  const cursorOf = (parts: string[]) => Buffer.from(`GPC:T:${JSON.stringify(parts.map((p) => `S:${p}`))}`).toString('base64');
  const page = (variables: Record<string, unknown>) =>
    h.execute<{ projects: { edges: unknown[] } | null }, Record<string, unknown>>(
      'query($after: String, $before: String, $last: Int) { projects(first: null, after: $after, before: $before, last: $last) { edges { node { name } } } }',
      { token: org.member.token, variables },
    );
  for (const variables of [{ after: cursorOf(['not-a-uuid', "x'; --"]) }, { before: cursorOf([org.id, 'nope']), last: 2 }]) {
    const response = await page(variables);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toBe(`Invalid input: ${'after' in variables ? 'after' : 'before'}: is not a cursor of this connection`);
  }
  const missing = await page({ after: cursorOf([other.id, '01900000-0000-7000-8000-000000000000']) });
  expect(missing).toEqual({ status: 200, data: { projects: { edges: [] } } });
});

it('compiles only the shapes it knows, and says null for the rest', () => {
  const page = { orderBy: ownOrder('desc'), take: 3 };
  expect(compileRead('Project', page)).not.toBeNull();
  expect(compileRead('Project', { ...page, where: { OR: [{ name: 'a' }, { name: 'b' }] } })).toBeNull();
  expect(compileRead('Project', { ...page, where: { name: { contains: 'a' } } })).toBeNull();
  expect(compileRead('Project', { ...page, include: { tasks: true } })).toBeNull();
  expect(compileRead('Project', { ...page, include: { _count: true } })).toBeNull();
  expect(compileRead('Project', { ...page, distinct: ['name'] })).toBeNull();
  expect(compileRead('Project', { ...page, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], cursor: { organizationId_id: { organizationId: org.id, id: org.id } } })).toBeNull();
  expect(compileRead('Task', { orderBy: [{ dueDate: 'asc' }, { id: 'asc' }], cursor: { organizationId_id: { organizationId: org.id, id: org.id } } })).toBeNull();
  expect(compileRead('Project', { ...page, take: 1.5 })).toBeNull();
  expect(compileRead('Nothing', page)).toBeNull();
  // The gateway's own tenant models compile whole (every column's type is one it reads as Prisma does).
  for (const model of ['Project', 'Task', 'Template']) expect(compileRead(model, { take: 1 })).not.toBeNull();
  // Values are parameters, never text: a hostile value changes nothing in the statement.
  const hostile = compileRead('Project', { where: { name: "x'; DROP TABLE projects; --" } })!;
  expect(hostile.text).not.toContain('DROP');
  expect(hostile.values).toEqual(["x'; DROP TABLE projects; --"]);
});
