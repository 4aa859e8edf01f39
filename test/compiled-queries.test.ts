import { encodeGlobalID } from '@pothos/plugin-relay';
import { startHarness, type GraphQLResponse, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * src/plugins/use-compiled-queries.ts (ADR 0098): a query seen before runs as
 * code graphql-jit compiled for it. Every request below is sent to a gateway
 * with compiled queries and to one without (GRAPHQL_JIT=false), on the same
 * rows, and the responses must be the same: status, data and errors (message,
 * path, locations, extensions), byte for byte once parsed.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
const compiled: (string | undefined)[] = [];
twoOrganizations({ jit: { onCompile: (name) => compiled.push(name) } }, (f) => ({ h, acme, globex } = f));

let interpreted: Harness;
let projectId: string;
let globexProjectId: string;

beforeAll(async () => {
  interpreted = await startHarness({ jit: false });
  const department = await h.system.prisma.department.create({ data: { organizationId: acme.id, name: 'Research' } });
  for (let i = 0; i < 5; i += 1) {
    const project = await h.system.prisma.project.create({
      data: {
        organizationId: acme.id,
        ownerId: i % 2 ? acme.admin.id : acme.owner.id,
        name: `Acme ${i}`,
        status: i === 3 ? 'ARCHIVED' : 'ACTIVE',
        restrictedToDepartmentId: i === 4 ? department.id : null,
        createdAt: new Date(Date.UTC(2026, 0, 1 + i)),
      },
    });
    if (i === 0) projectId = encodeGlobalID('Project', project.id);
    await h.system.prisma.task.create({ data: { organizationId: acme.id, projectId: project.id, title: `Task ${i}`, assigneeId: acme.member.id, status: i % 2 ? 'DONE' : 'TODO' } });
  }
  const other = await h.system.prisma.project.create({ data: { organizationId: globex.id, ownerId: globex.owner.id, name: 'Globex secret' } });
  globexProjectId = encodeGlobalID('Project', other.id);
});

afterAll(async () => {
  await interpreted?.close();
});

const PAGE = `query Page($first: Int, $after: String, $last: Int, $before: String) {
  projects(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name status createdAt updatedAt visibility owner { id email name } restrictedToDepartment { name } } }
  }
}`;

const TWO_OPERATIONS = `query Names { projects(first: 2) { edges { node { name } } } } query Count { projects(first: 1) { totalCount } }`;

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** The token's holder; null: anonymous. @default acme.member */
  as?: (orgs: { acme: TestOrganization; globex: TestOrganization }) => string | null;
  /** Whether the compiled executor may run it (a query whose variables it coerces as graphql-js does). @default true */
  compiles?: boolean;
}

const cases = (): Case[] => [
  { name: 'a page', query: PAGE, variables: { first: 2 } },
  { name: 'a page backwards', query: PAGE, variables: { last: 2 }, as: ({ acme }) => acme.owner.token },
  { name: 'a project and its node', query: `query Get($id: ID!) { project(id: $id) { id name status viewerPermissions owner { email } ownerOrganization { name } } node(id: $id) { id __typename ... on Project { name } } }`, variables: { id: projectId } },
  { name: "another organization's project: null", query: `query Get($id: ID!) { project(id: $id) { id name } node(id: $id) { id } }`, variables: { id: globexProjectId } },
  {
    name: 'fragments, aliases, @skip and @include',
    query: `query Frag($withOwner: Boolean!, $skipName: Boolean = false) {
      __typename
      a: projects(first: 2) { edges { node { ...P } } }
      b: projects(last: 1, status: ACTIVE) { edges { node { id name @skip(if: $skipName) owner @include(if: $withOwner) { email } } } }
    }
    fragment P on Project { id ... on Project { name owner @include(if: $withOwner) { id } } }`,
    variables: { withOwner: true },
  },
  { name: 'the same with the other branches', query: `query Frag2($withOwner: Boolean!, $skipName: Boolean = false) { b: projects(last: 3) { edges { node { id name @skip(if: $skipName) owner @include(if: $withOwner) { email } } } } }`, variables: { withOwner: false, skipName: true } },
  { name: 'an enum variable', query: `query ByStatus($status: ProjectStatus) { projects(first: 5, status: $status) { totalCount edges { node { name status } } } }`, variables: { status: 'ARCHIVED' } },
  { name: 'an enum variable out of the enum', query: `query ByStatus($status: ProjectStatus) { projects(first: 5, status: $status) { totalCount } }`, variables: { status: 'DONE' } },
  { name: 'a required variable missing', query: `query Get($id: ID!) { project(id: $id) { id } }`, variables: {} },
  { name: 'a variable of the wrong type', query: `query Page($first: Int) { projects(first: $first) { totalCount } }`, variables: { first: 'twenty' } },
  { name: 'a cursor that is not one', query: PAGE, variables: { first: 1, after: 'not-a-cursor' } },
  { name: 'too many asked for', query: PAGE, variables: { first: 100_000 } },
  { name: 'an input object inline', query: `{ tasks(first: 5, filter: { status: [TODO] }, orderBy: { field: CREATED_AT, direction: ASC }) { totalCount edges { node { title status assignee { email } project { name } } } } }` },
  { name: 'an input-object variable (interpreted)', query: `query Tasks($filter: TaskFilter) { tasks(first: 5, filter: $filter) { totalCount } }`, variables: { filter: { status: ['DONE'] } }, compiles: false },
  { name: 'the organization', query: `{ organization { id name slug quotas { resource limit used remaining } subscription { plan status seats addOns } domains { domain } } }` },
  { name: 'members and departments', query: `{ members(first: 10) { totalCount edges { node { role user { email } department { name } } } } departments { name parent { id } children { id } } }`, as: ({ acme }) => acme.admin.token },
  { name: 'an operators-only field as a member: FORBIDDEN, data null', query: `{ organization { id } platformOrganizations(reason: "look", first: 1) { edges { node { id } } } }` },
  { name: 'a nullable field refused beside data', query: `{ organization { name } analytics { __typename } }` },
  { name: 'anonymous', query: `{ projects(first: 1) { totalCount } }`, as: () => null },
  // Refused by validation (BAD_USER_INPUT through src/plugins/use-input-errors.ts): no executor runs.
  { name: 'a oneOf input inline, both keys', query: `{ usage(period: { preset: LAST_MONTH, range: { from: "2026-01-01", to: "2026-01-02" } }) { apiCalls } }`, compiles: false },
  { name: 'usage of a month', query: `{ usage(period: { preset: LAST_MONTH }) { apiCalls bandwidth period { from to } estimatedCost { amountMinor currency } } }`, as: ({ acme }) => acme.owner.token },
  { name: 'the first of two operations, by name', query: TWO_OPERATIONS, operationName: 'Names' },
  { name: 'the second of two operations, by name', query: TWO_OPERATIONS, operationName: 'Count' },
  { name: 'an operation name the document does not have', query: TWO_OPERATIONS, operationName: 'Nope', compiles: false },
  { name: 'introspection', query: `{ __schema { queryType { name } types { name kind } } __type(name: "Project") { name fields { name type { name kind ofType { name kind } } } } }` },
  { name: 'a mutation (interpreted)', query: `mutation { createProject(input: { name: "via mutation" }) { project { name } } }`, compiles: false },
];

async function send(harness: Harness, item: Case): Promise<GraphQLResponse<unknown>> {
  const token = item.as ? item.as({ acme, globex }) : acme.member.token;
  return harness.execute(item.query, { token, variables: item.variables, operationName: item.operationName });
}

it('answers every request as the interpreter does, compiled from its second execution on', async () => {
  const compiledBefore = new Set<string>();
  for (const item of cases()) {
    compiled.length = 0;
    if (item.query.startsWith('mutation')) {
      // A mutation writes: each gateway answers it; neither compiles it.
      const expected = await send(interpreted, item);
      for (let round = 0; round < 3; round += 1) expect({ case: item.name, round, response: await send(h, item) }).toEqual({ case: item.name, round, response: expected });
      expect({ case: item.name, compiled }).toEqual({ case: item.name, compiled: [] });
      continue;
    }
    const expected = await send(interpreted, item);
    // Each case is a document the schema accepts: a validation error would be answered before any executor.
    expect({ case: item.name, codes: expected.errors?.map((error) => error.extensions?.code) ?? [] }).not.toEqual({ case: item.name, codes: expect.arrayContaining(['GRAPHQL_VALIDATION_FAILED']) });
    // The first execution is interpreted (a document is compiled when it is seen again), the next ones compiled.
    for (let round = 0; round < 3; round += 1) {
      expect({ case: item.name, round, response: await send(h, item) }).toEqual({ case: item.name, round, response: expected });
    }
    const operation = `${item.operationName}:${item.query}`;
    const compiles = item.compiles !== false && !compiledBefore.has(operation);
    expect({ case: item.name, compilations: compiled.length }).toEqual({ case: item.name, compilations: compiles ? 1 : 0 });
    if (item.compiles !== false) compiledBefore.add(operation);
  }
});

it('compiles a document once and keeps the answer of its variables', async () => {
  compiled.length = 0;
  const first = await send(h, { name: 'page 1', query: PAGE, variables: { first: 1 } });
  const second = await send(h, { name: 'page 2', query: PAGE, variables: { first: 3 } });
  const third = await send(h, { name: 'page 3', query: PAGE, variables: { first: 2 } });
  expect(compiled).toEqual([]); // PAGE was compiled by the first test, in this gateway
  const sizes = [first, second, third].map((response) => (response.data as { projects: { edges: unknown[] } }).projects.edges.length);
  expect(sizes).toEqual([1, 3, 2]);
});

it('never compiles a document sent once: a new document per request costs no compilation', async () => {
  compiled.length = 0;
  for (let i = 0; i < 20; i += 1) {
    const response = await send(h, { name: `unique ${i}`, query: `{ projects(first: ${i + 1}) { totalCount } }` });
    expect(response.errors).toBeUndefined();
  }
  expect(compiled).toEqual([]);
});
