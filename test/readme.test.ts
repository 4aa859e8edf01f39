import { readFileSync } from 'node:fs';
import path from 'node:path';
import { demoLogins, seedDemo } from '../src/demo/seed';
import { startHarness, type Harness } from './helpers/harness';

/** Every GraphQL example of the README runs as written against the demo dataset, as alice@acme.example (Acme's owner). */

const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
let h: Harness;
let aliceToken: string;

beforeAll(async () => {
  h = await startHarness();
  await seedDemo(h.system);
  const alice = (await demoLogins(h.system)).find((login) => login.email === 'alice@acme.example' && login.slug === 'acme');
  if (!alice) throw new Error('the demo dataset has no alice@acme.example in acme');
  aliceToken = await h.token(alice.userId, alice.organizationId);
});
afterAll(() => h.close());

it('finds the examples', () => {
  expect(examples.length).toBeGreaterThan(5);
});

it.each(examples.map((example, i) => [i + 1, example]))('example %i runs without errors', async (_, example) => {
  const response = await h.execute(example as string, { token: aliceToken });
  expect(response.errors).toBeUndefined();
  expect(response.data).toBeTruthy();
});
