import { createClient, CreateProject, GraphQLRequestError, RecentProjects } from '../examples/typed-client/src/client';
import { startHarness, type Harness, type TestOrganization } from './helpers/harness';

/**
 * examples/typed-client: a frontend's own client generated from schema.graphql
 * (its codegen.ts maps DateTime, Date and SafeInt), run against a gateway as two
 * organizations. `npm run typecheck` checks its types with the rest.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
beforeAll(async () => {
  h = await startHarness();
  [acme, globex] = [await h.createOrganization(), await h.createOrganization()];
});
afterAll(() => h.close());

const clientOf = (token: string) => createClient('http://gateway.test/graphql', token, (input, init) => Promise.resolve(h.gateway.fetch(new Request(input, init))));

it('creates and lists with typed results, each organization its own', async () => {
  const created = await clientOf(acme.owner.token).request(CreateProject, { name: 'Typed' });
  expect(created.createProject.project).toMatchObject({ name: 'Typed', status: 'ACTIVE' });

  const mine = await clientOf(acme.owner.token).request(RecentProjects, { first: 5 });
  expect(mine.viewer.organization?.slug).toBe(acme.slug);
  expect(mine.projects.edges.map((e) => e.node.name)).toContain('Typed');
  // DateTime arrives as the ISO string the scalar mapping says.
  expect(typeof mine.projects.edges[0].node.createdAt).toBe('string');

  const theirs = await clientOf(globex.owner.token).request(RecentProjects, { first: 5 });
  expect(theirs.projects.edges.map((e) => e.node.name)).not.toContain('Typed');
});

it('turns GraphQL errors into a GraphQLRequestError with their codes', async () => {
  await expect(clientOf('not-a-token').request(RecentProjects, { first: 5 })).rejects.toBeInstanceOf(GraphQLRequestError);
  await expect(clientOf(acme.owner.token).request(CreateProject, { name: '' })).rejects.toThrow(/BAD_USER_INPUT/);
});
