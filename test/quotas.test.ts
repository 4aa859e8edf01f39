import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTenantClient } from '../src/db/tenant';
import type { Plan } from '../src/generated/prisma/enums';
import { enforceQuota, formatLimit, withinQuota } from '../src/quotas/enforce';
import { readLimitingQuotas } from '../src/quotas/limits';
import { graphql } from './gql';
import { errorCodes, type GraphQLResponse, type Harness, type TestOrganization, type TestUser, platformId } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { AddMember } from './members.operations';
import { CreateProject, DeleteProject, ProjectsQuery } from './operations';

/**
 * Quotas through the GraphQL endpoint against real PostgreSQL: the figures of
 * organization.quotas per plan, platform operators' overrides (setQuota), and
 * enforcement on every create path: QUOTA_EXCEEDED with the exact message,
 * nothing written, no overshoot under 50 concurrent creates, and one
 * organization at its limit never blocking another.
 */

const QuotasQuery = graphql(`
  query Quotas {
    organization { quotas { resource limit used remaining } }
  }
`);

const SetQuota = graphql(`
  mutation SetQuota($input: SetQuotaInput!) {
    setQuota(input: $input) {
      organization { id slug }
      quota { resource limit used remaining }
    }
  }
`);

const AddDomain = graphql(`
  mutation AddDomain($input: AddDomainInput!) {
    addDomain(input: $input) { domain { domain verified verifiedAt } }
  }
`);

const GB = 1024 ** 3;
const REASON = 'Ticket #42: agreed with the customer';

let h: Harness;
let operator: TestUser;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));
beforeEach(async () => {
  operator = await h.createPlatformOperator();
});


async function quotas(org: TestOrganization, token = org.member.token) {
  const response = await h.execute(QuotasQuery, { token });
  expect(response.errors).toBeUndefined();
  return Object.fromEntries(response.data!.organization.quotas.map(({ resource, ...rest }) => [resource, rest]));
}

function setPlan(org: TestOrganization, plan: Plan) {
  return h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { plan } });
}

async function setQuota(org: TestOrganization, resource: 'USERS' | 'PROJECTS' | 'STORAGE' | 'API_CALLS' | 'CUSTOM_DOMAINS', limit: number | null) {
  const response = await h.execute(SetQuota, {
    token: operator.token,
    variables: { input: { organizationId: platformId(org.id), resource, limit, reason: REASON } },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.setQuota;
}

/** Projects written directly, as the seed would: quotas count rows, not how they came. */
function seedProjects(org: TestOrganization, count: number, extra: { restrictedToDepartmentId?: string } = {}) {
  return h.system.prisma.project.createMany({
    data: Array.from({ length: count }, (_, i) => ({ organizationId: org.id, name: `seeded ${i}`, ownerId: org.owner.id, ...extra })),
  });
}

const countProjects = (org: TestOrganization) => h.system.prisma.project.count({ where: { organizationId: org.id } });

const createProject = (org: TestOrganization, name: string, token = org.member.token) =>
  h.execute(CreateProject, { token, variables: { input: { name } } });

function expectQuotaExceeded(response: GraphQLResponse<unknown>, message: string, extensions: { resource: string; limit: number; used: number }) {
  expect(response.errors).toEqual([{ message, path: expect.any(Array), locations: expect.any(Array), extensions: { code: 'QUOTA_EXCEEDED', ...extensions } }]);
  expect(response.data).toBeNull();
}

describe('organization.quotas', () => {
  it('FREE: 5 members, 10 projects, 1 GB, 1,000 API calls a month, no custom domain; used and remaining from the data', async () => {
    expect(await quotas(acme)).toEqual({
      USERS: { limit: 5, used: 3, remaining: 2 },
      PROJECTS: { limit: 10, used: 0, remaining: 10 },
      STORAGE: { limit: GB, used: 0, remaining: GB },
      API_CALLS: { limit: 1000, used: 0, remaining: 1000 },
      CUSTOM_DOMAINS: { limit: 0, used: 0, remaining: 0 },
      TASKS: { limit: 100, used: 0, remaining: 100 },
    });

    await seedProjects(acme, 4);
    await h.system.prisma.storageUsage.create({ data: { organizationId: acme.id, bytes: BigInt(GB / 4) } });
    const today = new Date(new Date().toISOString().slice(0, 10));
    const lastMonth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 15));
    await h.system.prisma.usageDaily.createMany({
      data: [
        { organizationId: acme.id, day: today, apiCalls: 120n },
        // Last month's calls are not this month's.
        { organizationId: acme.id, day: lastMonth, apiCalls: 5000n },
        { organizationId: globex.id, day: today, apiCalls: 400n },
      ],
    });
    if (today.getUTCDate() > 1) {
      await h.system.prisma.usageDaily.create({ data: { organizationId: acme.id, day: new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)), apiCalls: 30n } });
    }
    const thisMonth = today.getUTCDate() > 1 ? 150 : 120;

    expect(await quotas(acme)).toMatchObject({
      PROJECTS: { limit: 10, used: 4, remaining: 6 },
      STORAGE: { limit: GB, used: GB / 4, remaining: (3 * GB) / 4 },
      API_CALLS: { limit: 1000, used: thisMonth, remaining: 1000 - thisMonth },
    });
    // The other organization's figures are its own.
    expect(await quotas(globex)).toMatchObject({ PROJECTS: { used: 0 }, STORAGE: { used: 0 }, API_CALLS: { used: 400, remaining: 600 } });
  });

  it('PRO: 50, 100, 100 GB, 100,000, 3; numbers beyond 2^31 come through exactly', async () => {
    await setPlan(acme, 'PRO');
    await h.system.prisma.storageUsage.create({ data: { organizationId: acme.id, bytes: BigInt(5 * GB + 7) } });
    expect(await quotas(acme)).toEqual({
      USERS: { limit: 50, used: 3, remaining: 47 },
      PROJECTS: { limit: 100, used: 0, remaining: 100 },
      STORAGE: { limit: 100 * GB, used: 5 * GB + 7, remaining: 95 * GB - 7 },
      API_CALLS: { limit: 100_000, used: 0, remaining: 100_000 },
      CUSTOM_DOMAINS: { limit: 3, used: 0, remaining: 3 },
      TASKS: { limit: 10000, used: 0, remaining: 10000 },
    });
  });

  it('ENTERPRISE: unlimited everything (limit and remaining null), usage still counted', async () => {
    await setPlan(acme, 'ENTERPRISE');
    await seedProjects(acme, 2);
    expect(await quotas(acme)).toEqual({
      USERS: { limit: null, used: 3, remaining: null },
      PROJECTS: { limit: null, used: 2, remaining: null },
      STORAGE: { limit: null, used: 0, remaining: null },
      API_CALLS: { limit: null, used: 0, remaining: null },
      CUSTOM_DOMAINS: { limit: null, used: 0, remaining: null },
      TASKS: { limit: null, used: 0, remaining: null },
    });
  });

  it('counts department-restricted projects, which RLS hides from a member outside the department', async () => {
    const department = await h.system.prisma.department.create({ data: { organizationId: acme.id, name: 'Research' } });
    await seedProjects(acme, 3, { restrictedToDepartmentId: department.id });
    await seedProjects(acme, 1);

    const visible = await h.execute(ProjectsQuery, { token: acme.member.token });
    expect(visible.data?.projects.totalCount).toBe(1);
    expect((await quotas(acme, acme.member.token)).PROJECTS).toEqual({ limit: 10, used: 4, remaining: 6 });

    // So the member cannot create past the limit by not seeing some of it.
    await setQuota(acme, 'PROJECTS', 4);
    expectQuotaExceeded(await createProject(acme, 'one too many'), 'Project limit reached (4). Upgrade to create more.', {
      resource: 'PROJECTS',
      limit: 4,
      used: 4,
    });
    expect(await countProjects(acme)).toBe(4);
  });
});

describe('setQuota', () => {
  it('overrides a plan limit for one organization, unlimited included, and clearing returns to the plan; each change audited', async () => {
    await seedProjects(acme, 2);
    const set = await setQuota(acme, 'PROJECTS', 25);
    expect(set).toEqual({ organization: { id: platformId(acme.id), slug: acme.slug }, quota: { resource: 'PROJECTS', limit: 25, used: 2, remaining: 23 } });
    expect((await quotas(acme)).PROJECTS).toEqual({ limit: 25, used: 2, remaining: 23 });
    expect((await quotas(globex)).PROJECTS).toEqual({ limit: 10, used: 0, remaining: 10 });

    expect((await setQuota(acme, 'PROJECTS', null)).quota).toEqual({ resource: 'PROJECTS', limit: null, used: 2, remaining: null });
    expect((await quotas(acme)).PROJECTS).toEqual({ limit: null, used: 2, remaining: null });

    // Unlimited on FREE, beyond the plan's limit: creates go through.
    await seedProjects(acme, 8);
    expect((await createProject(acme, 'eleventh')).errors).toBeUndefined();

    const cleared = await h.execute(SetQuota, {
      token: operator.token,
      variables: { input: { organizationId: platformId(acme.id), resource: 'PROJECTS', clearOverride: true, reason: REASON } },
    });
    expect(cleared.data?.setQuota.quota).toEqual({ resource: 'PROJECTS', limit: 10, used: 11, remaining: 0 });
    expect(await h.system.prisma.quotaOverride.count({ where: { organizationId: acme.id } })).toBe(0);

    const audit = await h.system.prisma.platformAuditLog.findMany({ where: { actorUserId: operator.id }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((row) => [row.action, row.subjectOrganizationId, row.reason, row.details])).toEqual([
      ['quota.set', acme.id, REASON, expect.objectContaining({ resource: 'PROJECTS', limit: 25, previous: null })],
      ['quota.set', acme.id, REASON, expect.objectContaining({ resource: 'PROJECTS', limit: null, previous: { limit: 25 } })],
      ['quota.clear', acme.id, REASON, expect.objectContaining({ resource: 'PROJECTS', limit: null, previous: { limit: null } })],
    ]);
  });

  it('takes limits beyond 2^31 (bytes)', async () => {
    expect((await setQuota(acme, 'STORAGE', 500 * GB)).quota).toEqual({ resource: 'STORAGE', limit: 500 * GB, used: 0, remaining: 500 * GB });
  });

  it('is FORBIDDEN to owners and to users who only claim the platform scope; nothing changes', async () => {
    const input = { organizationId: platformId(acme.id), resource: 'PROJECTS' as const, limit: null, reason: REASON };
    const owner = await h.execute(SetQuota, { token: acme.owner.token, variables: { input } });
    expect([owner.status, owner.errors]).toEqual([403, [expect.objectContaining({ message: 'Only platform operators may do this', extensions: { code: 'FORBIDDEN' } })]]);
    const claimed = await h.token(acme.owner.id, undefined, { extraClaims: { platform: true } });
    expect(errorCodes(await h.execute(SetQuota, { token: claimed, variables: { input } }))).toEqual(['FORBIDDEN']);
    expect(await h.system.prisma.quotaOverride.count({ where: { organizationId: acme.id } })).toBe(0);
    expect(await h.system.prisma.platformAuditLog.count({ where: { subjectOrganizationId: acme.id } })).toBe(0);
  });

  it.each([
    ['an omitted limit (it must not pass for "unlimited")', { resource: 'PROJECTS' }, 'input.limit', 'is required: a number, or null for unlimited'],
    ['a negative limit', { resource: 'PROJECTS', limit: -1 }, 'input.limit', 'must not be negative'],
    ['a limit with clearOverride', { resource: 'PROJECTS', limit: 3, clearOverride: true }, 'input.limit', 'must be left out when clearOverride is true'],
    ['an empty reason', { resource: 'PROJECTS', limit: 3, reason: ' ' }, 'input.reason', 'must not be empty'],
  ])('refuses %s with BAD_USER_INPUT', async (_, fields, field, message) => {
    const input = { organizationId: platformId(acme.id), reason: REASON, ...fields } as never;
    const response = await h.execute(SetQuota, { token: operator.token, variables: { input } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field, message }]);
    expect(await h.system.prisma.quotaOverride.count({ where: { organizationId: acme.id } })).toBe(0);
  });

  it('answers NOT_FOUND for an organization that does not exist', async () => {
    const response = await h.execute(SetQuota, {
      token: operator.token,
      variables: { input: { organizationId: platformId(randomUUID()), resource: 'USERS', limit: 1, reason: REASON } },
    });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Organization not found', extensions: { code: 'NOT_FOUND' } })]);
  });
});

describe('enforcement', () => {
  it('projects: at the limit, createProject fails with QUOTA_EXCEEDED and the exact message, and writes nothing', async () => {
    await seedProjects(acme, 9);
    expect((await createProject(acme, 'tenth')).errors).toBeUndefined();
    expectQuotaExceeded(await createProject(acme, 'eleventh'), 'Project limit reached (10). Upgrade to create more.', { resource: 'PROJECTS', limit: 10, used: 10 });
    expect(await countProjects(acme)).toBe(10);
  });

  it('members: at the limit, addMember fails with QUOTA_EXCEEDED, and neither the membership nor the user is written', async () => {
    // addMember adds addresses of the organization's verified domains only.
    await h.system.prisma.organizationDomain.create({ data: { organizationId: acme.id, domain: `${acme.slug}.example`, verified: true, verifiedMethod: 'DNS' } });
    for (const name of ['fourth', 'fifth']) {
      const added = await h.execute(AddMember, { token: acme.admin.token, variables: { input: { email: `${name}-${randomUUID()}@${acme.slug}.example` } } });
      expect(added.errors).toBeUndefined();
    }
    const email = `sixth-${randomUUID()}@${acme.slug}.example`;
    const response = await h.execute(AddMember, { token: acme.owner.token, variables: { input: { email } } });
    expectQuotaExceeded(response, 'Member limit reached (5). Upgrade to create more.', { resource: 'USERS', limit: 5, used: 5 });
    expect(await h.system.prisma.membership.count({ where: { organizationId: acme.id } })).toBe(5);
    expect(await h.system.prisma.user.findUnique({ where: { email } })).toBeNull();
  });

  it('custom domains: none on FREE; three on PRO, unverified; QUOTA_EXCEEDED after, and nothing written', async () => {
    const addDomain = (domain: string, token = acme.admin.token) => h.execute(AddDomain, { token, variables: { input: { domain } } });
    expectQuotaExceeded(await addDomain('acme.example'), 'Custom domain limit reached (0). Upgrade to create more.', { resource: 'CUSTOM_DOMAINS', limit: 0, used: 0 });
    expect(await h.system.prisma.organizationDomain.count({ where: { organizationId: acme.id } })).toBe(0);

    await setPlan(acme, 'PRO');
    for (const domain of ['acme.example', 'WWW.Acme.Example', 'shop.acme.example']) {
      const added = await addDomain(domain, acme.owner.token);
      expect(added.errors).toBeUndefined();
      expect(added.data?.addDomain.domain).toEqual({ domain: domain.toLowerCase(), verified: false, verifiedAt: null });
    }
    expectQuotaExceeded(await addDomain('docs.acme.example'), 'Custom domain limit reached (3). Upgrade to create more.', { resource: 'CUSTOM_DOMAINS', limit: 3, used: 3 });
    const stored = await h.system.prisma.organizationDomain.findMany({ where: { organizationId: acme.id }, orderBy: { domain: 'asc' } });
    expect(stored.map((d) => [d.domain, d.verified])).toEqual([['acme.example', false], ['shop.acme.example', false], ['www.acme.example', false]]);
    expect((await quotas(acme)).CUSTOM_DOMAINS).toEqual({ limit: 3, used: 3, remaining: 0 });
  });

  it('addDomain: a domain already added is ALREADY_EXISTS; members are FORBIDDEN and invalid input BAD_USER_INPUT, before any quota check', async () => {
    await setPlan(acme, 'PRO');
    expect((await h.execute(AddDomain, { token: acme.owner.token, variables: { input: { domain: 'acme.example' } } })).errors).toBeUndefined();
    const again = await h.execute(AddDomain, { token: acme.admin.token, variables: { input: { domain: 'ACME.example' } } });
    expect(again.errors).toEqual([expect.objectContaining({ message: 'The domain acme.example is already added', extensions: { code: 'ALREADY_EXISTS', field: 'input.domain' } })]);

    // On FREE (limit 0) the quota would refuse everything: who may call and what is valid come first.
    const member = await h.execute(AddDomain, { token: globex.member.token, variables: { input: { domain: 'globex.example' } } });
    expect([member.status, errorCodes(member)]).toEqual([403, ['FORBIDDEN']]);
    const invalid = await h.execute(AddDomain, { token: globex.owner.token, variables: { input: { domain: 'not a domain' } } });
    expect(errorCodes(invalid)).toEqual(['BAD_USER_INPUT']);
    expect(invalid.errors?.[0].extensions?.fields).toEqual([{ field: 'input.domain', message: 'must be a hostname, e.g. example.com' }]);
    expect(await h.system.prisma.organizationDomain.count({ where: { organizationId: globex.id } })).toBe(0);
  });

  it('storage: the same check for an amount of bytes (the seam for uploads), with the limit in GB', async () => {
    await h.system.prisma.storageUsage.create({ data: { organizationId: acme.id, bytes: BigInt(GB - 100) } });
    const db = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.member.id, role: 'MEMBER' });
    await expect(withinQuota(db, acme.id, { resource: 'STORAGE', amount: 100 }, async () => 'stored')).resolves.toBe('stored');
    const refused = withinQuota(db, acme.id, { resource: 'STORAGE', amount: 101 }, async () => 'stored');
    await expect(refused).rejects.toThrow('Storage limit reached (1 GB). Upgrade to create more.');
    await expect(refused).rejects.toMatchObject({ extensions: { code: 'QUOTA_EXCEEDED', resource: 'STORAGE', limit: GB, used: GB - 100 } });
    expect([formatLimit('STORAGE', 100 * GB), formatLimit('STORAGE', 1.5 * GB), formatLimit('STORAGE', 512), formatLimit('API_CALLS', 100_000)]).toEqual([
      '100 GB',
      '1.5 GB',
      '512 bytes',
      '100,000',
    ]);
  });

  it('a limit lowered below current use blocks new creates and deletes nothing', async () => {
    await seedProjects(acme, 5);
    expect((await setQuota(acme, 'PROJECTS', 3)).quota).toEqual({ resource: 'PROJECTS', limit: 3, used: 5, remaining: 0 });
    expectQuotaExceeded(await createProject(acme, 'sixth'), 'Project limit reached (3). Upgrade to create more.', { resource: 'PROJECTS', limit: 3, used: 5 });
    expect(await countProjects(acme)).toBe(5);

    // Deleting is never refused; creating works again once use is below the limit.
    const page = await h.execute(ProjectsQuery, { token: acme.owner.token, variables: { first: 3 } });
    for (const edge of page.data!.projects.edges) {
      expect((await h.execute(DeleteProject, { token: acme.owner.token, variables: { input: { id: edge.node.id } } })).errors).toBeUndefined();
    }
    expect((await createProject(acme, 'third again')).errors).toBeUndefined();
    expect(await countProjects(acme)).toBe(3);
  });

  it('one organization at its limit does not block another', async () => {
    await setQuota(acme, 'PROJECTS', 1);
    await seedProjects(acme, 1);
    expect(errorCodes(await createProject(acme, 'blocked'))).toEqual(['QUOTA_EXCEEDED']);
    for (const name of ['one', 'two']) expect((await createProject(globex, name)).errors).toBeUndefined();
    expect([await countProjects(acme), await countProjects(globex)]).toEqual([1, 2]);
    expect((await quotas(globex)).PROJECTS).toEqual({ limit: 10, used: 2, remaining: 8 });
  });
});

describe('race-free', () => {
  it('50 concurrent createProject calls with 3 places left create exactly 3 projects; 47 get QUOTA_EXCEEDED', async () => {
    await setQuota(acme, 'PROJECTS', 5);
    await seedProjects(acme, 2);
    // Another organization creating meanwhile neither waits for acme's lock nor counts against it.
    const [responses, others] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, (_, i) => createProject(acme, `concurrent ${i}`))),
      Promise.all(Array.from({ length: 5 }, (_, i) => createProject(globex, `meanwhile ${i}`))),
    ]);
    const outcomes = responses.map((r) => (r.errors ? r.errors.map((e) => e.extensions?.code).join() : 'created'));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'QUOTA_EXCEEDED')).toHaveLength(47);
    expect(await countProjects(acme)).toBe(5);
    expect(others.map((r) => r.errors)).toEqual(Array(5).fill(undefined));
    expect(await countProjects(globex)).toBe(5);
  });

  it('a check before a write counts only quotas that limit: an unlimited one is skipped, not scanned', async () => {
    await seedProjects(acme, 3);
    const client = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' });
    const limiting = () => client.$transaction((tx) => readLimitingQuotas(tx, ['PROJECTS', 'USERS']));
    expect(await limiting()).toEqual([
      { resource: 'PROJECTS', limit: 10, used: 3, remaining: 7 },
      { resource: 'USERS', limit: 5, used: 3, remaining: 2 },
    ]);
    await setQuota(acme, 'PROJECTS', null);
    expect(await limiting()).toEqual([{ resource: 'USERS', limit: 5, used: 3, remaining: 2 }]);
    // The read for display still counts it.
    expect((await quotas(acme)).PROJECTS).toEqual({ limit: null, used: 3, remaining: null });
  });

  it('the database lock alone holds across gateway processes: 50 transactions on separate clients, exactly the limit written', async () => {
    // Two tenant clients standing for two gateway processes, and enforceQuota in
    // transactions of their own: no in-process queue, only pg_advisory_xact_lock.
    await setQuota(acme, 'PROJECTS', 4);
    const clients = [0, 1].map(() => createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' }));
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        clients[i % 2].$transaction(async (tx) => {
          await enforceQuota(tx, { resource: 'PROJECTS', amount: 1 });
          return tx.project.create({ data: { name: `direct ${i}`, ownerId: acme.owner.id } });
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(4);
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { extensions?: { code?: string } }).extensions?.code] : []));
    expect(refusals).toEqual(Array(46).fill('QUOTA_EXCEEDED'));
    expect(await countProjects(acme)).toBe(4);
  });
});
