import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signToken } from '../src/auth/tokens';
import { startHarness, TEST_SECRET, testUrls, type Harness, type TestOrganization } from './helpers/harness';
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process';

/**
 * Two gateway processes on one database (issue 13, item 9): what keeps quotas
 * exact and usage whole must be in the database, not in a process. The
 * 50-concurrent-create race, split across both, creates exactly the places
 * left; requests counted by both recorders add up to what was sent once both
 * have stopped (SIGTERM writes the last counts).
 */
jest.setTimeout(300_000);

const SECRET = `${TEST_SECRET}-and-some-more`;
const ISSUER = 'https://idp.two-gateways.example';
const AUDIENCE = 'tenantgate-two-gateways';
const CreateProject = 'mutation($name: String!) { createProject(input: { name: $name }) { project { id } } }';

let h: Harness;
let gateways: GatewayProcess[] = [];
let urls: string[] = [];
const dataDirs: string[] = [];

function productionEnv(): Record<string, string> {
  const { adminUrl, runtimeUrl } = testUrls();
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-two-'));
  chmodSync(dir, 0o755);
  dataDirs.push(dir);
  return { NODE_ENV: 'production', DATABASE_URL: runtimeUrl, DATABASE_ADMIN_URL: adminUrl, JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, TENANTGATE_DATA_DIR: dir };
}

beforeAll(async () => {
  h = await startHarness();
  gateways = [startGatewayProcess(productionEnv()), startGatewayProcess(productionEnv())];
  const ready = await Promise.all(gateways.map((g) => g.waitFor((l) => String(l.msg).startsWith('tenantgate is serving'), 180_000)));
  urls = ready.map((line) => String(line.url));
});
afterAll(async () => {
  for (const g of gateways) if (g.child.exitCode === null) g.child.kill('SIGTERM');
  await Promise.all(gateways.map((g) => g.exited));
  await h.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const tokenFor = (org: TestOrganization) => signToken({ secret: SECRET, userId: org.owner.id, organizationId: org.id, issuer: ISSUER, audience: AUDIENCE });

async function post(url: string, token: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
}

it('quotas stay exact: 50 concurrent createProject calls split across both, 3 places left, exactly 3 created', async () => {
  const org = await h.createOrganization('Two gateways, quota');
  await h.system.prisma.quotaOverride.create({ data: { organizationId: org.id, resource: 'PROJECTS', limit: 5n } });
  await h.system.prisma.project.createMany({ data: [1, 2].map((i) => ({ organizationId: org.id, ownerId: org.owner.id, name: `seeded ${i}` })) });
  const token = await tokenFor(org);
  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(urls[i % 2], token, CreateProject, { name: `raced ${i}` })));
  const outcomes = responses.map((r) => r.body.errors?.map((e) => e.extensions?.code).join() ?? 'created');
  expect(outcomes.filter((o) => o === 'created')).toHaveLength(3);
  expect(outcomes.filter((o) => o === 'QUOTA_EXCEEDED')).toHaveLength(47);
  expect(await h.system.prisma.project.count({ where: { organizationId: org.id } })).toBe(5);
});

it('usage adds up: 120 requests split across both are 120 API calls once both have stopped', async () => {
  const org = await h.createOrganization('Two gateways, usage');
  const token = await tokenFor(org);
  const sent = 120;
  const responses = await Promise.all(Array.from({ length: sent }, (_, i) => post(urls[i % 2], token, '{ viewer { role } }')));
  expect(responses.map((r) => r.status)).toEqual(Array(sent).fill(200));
  // SIGTERM: each writes what it counted since its last flush before it exits.
  for (const g of gateways) g.child.kill('SIGTERM');
  expect(await Promise.all(gateways.map((g) => g.exited))).toEqual([
    { code: 0, signal: null },
    { code: 0, signal: null },
  ]);
  const rows = await h.system.prisma.usageDaily.findMany({ where: { organizationId: org.id }, select: { apiCalls: true } });
  expect(rows.reduce((sum, row) => sum + row.apiCalls, 0n)).toBe(BigInt(sent));
});
