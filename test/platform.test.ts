import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { decodeJwt } from 'jose';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTokenVerifier, supportTokenSigner } from '../src/auth/tokens';
import { addPlatformOperator, findPlatformOperator } from '../src/platform/operators';
import { createGateway } from '../src/yoga';
import { graphql } from './gql';
import { errorCodes, TEST_SECRET, type Harness, type TestOrganization, type TestUser, platformId } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { CreateProject, ProjectsQuery, ViewerQuery } from './operations';

/**
 * The platform operator's scope: organizations across tenants, support sessions
 * and the audit log. Both sides of every rule: the operator may, an owner or a
 * user who merely claims the scope may not; and every action leaves an audit row
 * with who, what, on which organization, and why.
 */

const PlatformOrganizations = graphql(`
  query PlatformOrganizations($first: Int, $after: String, $search: String, $reason: String!) {
    platformOrganizations(first: $first, after: $after, search: $search, reason: $reason) {
      edges { cursor node { id slug name plan domains memberCount owner { id email name } createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const CreateOrganization = graphql(`
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { organization { id slug name plan domains memberCount owner { email name } } }
  }
`);

const StartSupportSession = graphql(`
  mutation StartSupportSession($input: StartSupportSessionInput!) {
    startSupportSession(input: $input) { token expiresAt organization { id slug } }
  }
`);

const PlatformAuditLog = graphql(`
  query PlatformAuditLog($organizationId: ID, $first: Int, $after: String, $reason: String!) {
    platformAuditLog(organizationId: $organizationId, first: $first, after: $after, reason: $reason) {
      edges { node { action reason details actor { email } organization { slug } createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const REASON = 'Ticket #4711: customer asked for help';

let h: Harness;
let operator: TestUser;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));
beforeEach(async () => {
  operator = await h.createPlatformOperator();
});

const auditRows = (actorUserId: string) => h.system.prisma.platformAuditLog.findMany({ where: { actorUserId }, orderBy: { createdAt: 'asc' } });

const startSession = (token: string, input: { organizationId: string; reason: string }) => h.execute(StartSupportSession, { token, variables: { input } });

describe('platformOrganizations', () => {
  it('lists every organization by slug, a page at a time, and records each page with the reason', async () => {
    const tag = randomUUID().slice(0, 8);
    const orgs = [await h.createOrganization(`Listed ${tag} one`), await h.createOrganization(`Listed ${tag} two`), await h.createOrganization(`LISTED ${tag} three`)];
    const slugs = orgs.map((o) => o.slug).sort();

    const first = await h.execute(PlatformOrganizations, { token: operator.token, variables: { first: 2, search: `listed ${tag}`, reason: REASON } });
    expect(first.errors).toBeUndefined();
    const page = first.data!.platformOrganizations;
    expect(page.edges.map((e) => e.node.slug)).toEqual(slugs.slice(0, 2));
    expect(page.pageInfo.hasNextPage).toBe(true);
    const owner = orgs.find((o) => o.slug === slugs[0])!.owner;
    expect(page.edges[0].node).toMatchObject({
      id: platformId(orgs.find((o) => o.slug === slugs[0])!.id),
      plan: 'FREE',
      domains: [],
      memberCount: 3,
      owner: { id: encodeGlobalID('PlatformUser', owner.id), email: owner.email },
    });

    const second = await h.execute(PlatformOrganizations, { token: operator.token, variables: { first: 2, after: page.pageInfo.endCursor, search: `listed ${tag}`, reason: REASON } });
    expect(second.data!.platformOrganizations.edges.map((e) => e.node.slug)).toEqual(slugs.slice(2));
    expect(second.data!.platformOrganizations.pageInfo.hasNextPage).toBe(false);

    const rows = await auditRows(operator.id);
    expect(rows).toEqual([
      expect.objectContaining({ action: 'organization.list', reason: REASON, subjectOrganizationId: null, details: expect.objectContaining({ search: `listed ${tag}` }) }),
      expect.objectContaining({ action: 'organization.list', reason: REASON }),
    ]);
  });

  it('finds any organization by its slug, in any case, whichever organizations the operator belongs to (none)', async () => {
    for (const org of [acme, globex]) {
      const response = await h.execute(PlatformOrganizations, { token: operator.token, variables: { search: org.slug.toUpperCase(), reason: REASON } });
      expect(response.data!.platformOrganizations.edges.map((e) => e.node.slug)).toEqual([org.slug]);
    }
  });

  it.each([
    ['an empty reason', { reason: '' }, 'reason', 'must not be empty'],
    ['a blank reason', { reason: '   ' }, 'reason', 'must not be empty'],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }, 'reason', 'must be at most 500 characters'],
    ['a search over 200 characters', { reason: REASON, search: 'x'.repeat(201) }, 'search', 'must be at most 200 characters'],
  ])('refuses %s with BAD_USER_INPUT naming it, and records nothing', async (_, variables, field, message) => {
    const response = await h.execute(PlatformOrganizations, { token: operator.token, variables });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field, message }]);
    expect(await auditRows(operator.id)).toEqual([]);
  });
});

describe('createOrganization', () => {
  it('creates the organization with its plan, domains and owner, who can then use it; recorded with the reason', async () => {
    const slug = `new-${randomUUID().slice(0, 8)}`;
    const ownerEmail = `Founder-${randomUUID().slice(0, 8)}@New.Example`;
    const response = await h.execute(CreateOrganization, {
      token: operator.token,
      variables: { input: { name: '  New Co  ', slug, plan: 'PRO', domains: ['New.Example', 'app.new.example'], ownerEmail, reason: REASON } },
    });
    expect(response.errors).toBeUndefined();
    const created = response.data!.createOrganization.organization;
    const stored = await h.system.prisma.organization.findUniqueOrThrow({ where: { slug }, include: { subscription: true, memberships: { include: { user: true } } } });
    expect(created).toEqual({
      id: platformId(stored.id),
      slug,
      name: 'New Co',
      plan: 'PRO',
      domains: ['app.new.example', 'new.example'],
      memberCount: 1,
      owner: { email: ownerEmail.toLowerCase(), name: expect.any(String) },
    });
    expect(stored.subscription?.plan).toBe('PRO');
    expect(stored.memberships).toEqual([expect.objectContaining({ role: 'OWNER', user: expect.objectContaining({ email: ownerEmail.toLowerCase() }) })]);

    const ownerToken = await h.token(stored.memberships[0].userId, stored.id);
    const viewer = await h.execute(ViewerQuery, { token: ownerToken });
    expect(viewer.data?.viewer).toMatchObject({ role: 'OWNER', organization: { slug, name: 'New Co' } });
    expect((await h.execute(CreateProject, { token: ownerToken, variables: { input: { name: 'First' } } })).errors).toBeUndefined();

    expect(await auditRows(operator.id)).toEqual([
      expect.objectContaining({
        action: 'organization.create',
        subjectOrganizationId: stored.id,
        reason: REASON,
        details: expect.objectContaining({ slug, plan: 'PRO', domains: ['new.example', 'app.new.example'], owner: ownerEmail.toLowerCase() }),
      }),
    ]);
  });

  it('defaults to the FREE plan, no domains and no owner', async () => {
    const slug = `bare-${randomUUID().slice(0, 8)}`;
    const response = await h.execute(CreateOrganization, { token: operator.token, variables: { input: { name: 'Bare', slug, reason: REASON } } });
    expect(response.data?.createOrganization.organization).toMatchObject({ slug, plan: 'FREE', domains: [], memberCount: 0, owner: null });
  });

  it('refuses a taken slug with ALREADY_EXISTS, and records nothing', async () => {
    const response = await h.execute(CreateOrganization, { token: operator.token, variables: { input: { name: 'Copy', slug: acme.slug, reason: REASON } } });
    expect(response.errors).toEqual([
      expect.objectContaining({ message: `An organization with slug "${acme.slug}" already exists`, extensions: { code: 'ALREADY_EXISTS', field: 'input.slug' } }),
    ]);
    expect(await h.system.prisma.organization.count({ where: { slug: acme.slug } })).toBe(1);
    expect(await auditRows(operator.id)).toEqual([]);
  });

  it.each([
    ['an empty name', { name: ' ' }, 'input.name', 'must not be empty'],
    ['a name over 200 characters', { name: 'x'.repeat(201) }, 'input.name', 'must be at most 200 characters'],
    ['an uppercase slug', { slug: 'Acme' }, 'input.slug', 'must be 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit'],
    ['a one-character slug', { slug: 'a' }, 'input.slug', 'must be 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit'],
    ['a slug starting with a hyphen', { slug: '-acme' }, 'input.slug', 'must be 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit'],
    ['a domain that is not a hostname', { domains: ['example.com', 'not a host'] }, 'input.domains.1', 'must be a hostname, e.g. example.com'],
    ['a domain listed twice (in any case)', { domains: ['example.com', 'EXAMPLE.com'] }, 'input.domains.1', 'lists example.com twice'],
    ['an owner email that is not one', { ownerEmail: 'nobody' }, 'input.ownerEmail', 'must be an email address'],
    ['an empty reason', { reason: '' }, 'input.reason', 'must not be empty'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_, change, field, message) => {
    const slug = `bad-${randomUUID().slice(0, 8)}`;
    const response = await h.execute(CreateOrganization, { token: operator.token, variables: { input: { name: 'Bad', slug, reason: REASON, ...change } } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field, message }]);
    expect(response.status).toBe(400);
    expect(await h.system.prisma.organization.count({ where: { slug: { in: [slug, 'Acme', 'a', '-acme'] } } })).toBe(0);
    expect(await auditRows(operator.id)).toEqual([]);
  });

  it('refuses an unknown plan with BAD_USER_INPUT', async () => {
    const response = await h.execute(CreateOrganization, { token: operator.token, variables: { input: { name: 'X', slug: `x-${randomUUID().slice(0, 8)}`, plan: 'GOLD' as never, reason: REASON } } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toMatch(/"input\.plan".*"GOLD" does not exist in "Plan"/);
  });
});

describe('startSupportSession', () => {
  it('gives the operator an hour as ADMIN of the organization, without a membership; recorded with the reason', async () => {
    await h.execute(CreateProject, { token: acme.member.token, variables: { input: { name: 'acme-project' } } });
    await h.execute(CreateProject, { token: globex.member.token, variables: { input: { name: 'globex-project' } } });

    const before = Date.now();
    const response = await startSession(operator.token, { organizationId: platformId(acme.id), reason: REASON });
    expect(response.errors).toBeUndefined();
    const session = response.data!.startSupportSession;
    expect(session.organization).toEqual({ id: platformId(acme.id), slug: acme.slug });
    const expiresAt = new Date(session.expiresAt).getTime();
    expect(expiresAt).toBeGreaterThan(before + 59 * 60 * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60 * 60 * 1000);
    expect(decodeJwt(session.token)).toMatchObject({ sub: operator.id, org: acme.id, platform: true, support: true, exp: expiresAt / 1000 });

    const viewer = await h.execute(ViewerQuery, { token: session.token });
    expect(viewer.data?.viewer).toMatchObject({ role: 'ADMIN', organization: { slug: acme.slug } });
    const projects = await h.execute(ProjectsQuery, { token: session.token });
    expect(projects.data?.projects.edges.map((e) => e.node.name)).toEqual(['acme-project']);
    expect(await h.system.prisma.membership.count({ where: { userId: operator.id } })).toBe(0);

    expect(await auditRows(operator.id)).toEqual([
      expect.objectContaining({ action: 'support.start', subjectOrganizationId: acme.id, reason: REASON, details: expect.objectContaining({ expiresAt: session.expiresAt }) }),
    ]);
  });

  it('stops working when the operator is taken off the list', async () => {
    const { data } = await startSession(operator.token, { organizationId: platformId(acme.id), reason: REASON });
    await h.system.prisma.platformOperator.delete({ where: { userId: operator.id } });
    const response = await h.execute(ProjectsQuery, { token: data!.startSupportSession.token });
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'You are not a member of this organization', extensions: { code: 'FORBIDDEN' } })]);
  });

  it('is refused to a non-operator who forges the claims: FORBIDDEN', async () => {
    const forged = await h.token(globex.owner.id, acme.id, { extraClaims: { platform: true, support: true } });
    const response = await h.execute(ProjectsQuery, { token: forged });
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'You are not a member of this organization', extensions: { code: 'FORBIDDEN' } })]);
    expect(response.data).toBeUndefined();
  });

  it('answers NOT_FOUND for an organization that does not exist and BAD_USER_INPUT for a malformed id, recording nothing', async () => {
    const missing = await startSession(operator.token, { organizationId: platformId(randomUUID()), reason: REASON });
    expect(missing.errors).toEqual([expect.objectContaining({ message: 'Organization not found', extensions: { code: 'NOT_FOUND' } })]);
    const tenantId = await startSession(operator.token, { organizationId: encodeGlobalID('Organization', acme.id), reason: REASON });
    expect(tenantId.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.organizationId', message: 'is not a PlatformOrganization ID' }] });
    expect(await auditRows(operator.id)).toEqual([]);
  });

  it('says that it needs JWT_SECRET when the gateway has no signer (tokens from JWT_JWKS_URL)', async () => {
    expect(supportTokenSigner({ jwksUrl: 'https://idp.example/jwks.json', secret: TEST_SECRET })).toBeUndefined();
    const gateway = createGateway({ db: h.db, system: h.system, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, graphiql: false });
    const response = await gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operator.token}` },
      body: JSON.stringify({ query: print(StartSupportSession), variables: { input: { organizationId: platformId(acme.id), reason: REASON } } }),
    });
    expect(((await response.json()) as { errors?: unknown[] }).errors).toEqual([expect.objectContaining({ message: expect.stringContaining('Support sessions need JWT_SECRET'), extensions: { code: 'FAILED_PRECONDITION' } })]);
    expect(await auditRows(operator.id)).toEqual([]);
  });
});

describe('platformAuditLog', () => {
  it('shows an organization\'s platform actions, newest first, with who and why; reading it is recorded too', async () => {
    await startSession(operator.token, { organizationId: platformId(acme.id), reason: 'first look' });
    await startSession(operator.token, { organizationId: platformId(acme.id), reason: 'second look' });
    await startSession(operator.token, { organizationId: platformId(globex.id), reason: 'elsewhere' });

    const variables = { organizationId: platformId(acme.id), first: 1, reason: 'audit review' };
    const first = await h.execute(PlatformAuditLog, { token: operator.token, variables });
    expect(first.errors).toBeUndefined();
    const second = await h.execute(PlatformAuditLog, { token: operator.token, variables: { ...variables, first: 10, after: first.data!.platformAuditLog.pageInfo.endCursor } });
    const entries = [...first.data!.platformAuditLog.edges, ...second.data!.platformAuditLog.edges].map((e) => e.node);
    expect(entries.map((e) => [e.action, e.reason])).toEqual([
      ['support.start', 'second look'],
      ['support.start', 'first look'],
    ]);
    expect(entries[0]).toMatchObject({ actor: { email: operator.email }, organization: { slug: acme.slug } });
    expect(JSON.parse(entries[0].details)).toMatchObject({ expiresAt: expect.any(String) });
    expect(first.data!.platformAuditLog.pageInfo.hasNextPage).toBe(true);
    expect(second.data!.platformAuditLog.pageInfo.hasNextPage).toBe(false);
    expect((await auditRows(operator.id)).filter((r) => r.action === 'audit.list')).toEqual([
      expect.objectContaining({ subjectOrganizationId: null, reason: 'audit review', details: expect.objectContaining({ organizationId: acme.id }) }),
      expect.objectContaining({ subjectOrganizationId: null, reason: 'audit review' }),
    ]);
  });

  it('refuses a malformed cursor with BAD_USER_INPUT', async () => {
    const response = await h.execute(PlatformAuditLog, { token: operator.token, variables: { after: 'bm90IGEgY3Vyc29y', reason: REASON } });
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after', message: 'is not a valid cursor' }] });
  });

  it('is out of the tenants\' reach: the runtime role has no grant on it', async () => {
    await expect(h.db.prisma.$queryRaw`SELECT count(*) FROM platform_audit_log`).rejects.toThrow(/permission denied/);
    await expect(h.db.prisma.$queryRaw`SELECT count(*) FROM platform_operators`).rejects.toThrow(/permission denied/);
  });
});

describe('the operator list (npm run platform:add-operator, npm run token -- --platform-admin)', () => {
  it('adds a user, new or existing, once, recorded; only a listed user gets a platform token', async () => {
    const email = `ops-${randomUUID()}@platform.test`;
    await expect(findPlatformOperator(h.system, email)).rejects.toThrow(`No user with email ${email}. To create one as a platform operator: npm run platform:add-operator -- --email ${email}`);
    await expect(findPlatformOperator(h.system, acme.owner.email)).rejects.toThrow(
      `${acme.owner.email} is not a platform operator. To make them one: npm run platform:add-operator -- --email ${acme.owner.email}`,
    );

    const added = await addPlatformOperator(h.system, { email: email.toUpperCase(), reason: 'on call' });
    expect(added).toMatchObject({ email, createdUser: true, alreadyOperator: false });
    expect(await addPlatformOperator(h.system, { email, reason: 'again' })).toMatchObject({ id: added.id, alreadyOperator: true });
    expect(await addPlatformOperator(h.system, { email: acme.owner.email, reason: 'promoted' })).toMatchObject({ id: acme.owner.id, createdUser: false });
    expect(await findPlatformOperator(h.system, email)).toEqual({ id: added.id, email, name: expect.any(String) });
    expect(await auditRows(added.id)).toEqual([expect.objectContaining({ action: 'operator.add', reason: 'on call', details: { email, createdUser: true } })]);

    const token = await h.token(added.id, undefined, { extraClaims: { platform: true } });
    expect((await h.execute(PlatformOrganizations, { token, variables: { first: 1, reason: REASON } })).errors).toBeUndefined();
  });
});

describe('who may not', () => {
  const everyPlatformField = (organizationId: string): [string, string][] => [
    ['platformOrganizations', `{ platformOrganizations(reason: "x") { edges { node { id } } } }`],
    ['platformAuditLog', `{ platformAuditLog(reason: "x") { edges { node { action } } } }`],
    ['createOrganization', `mutation { createOrganization(input: { name: "X", slug: "x-${randomUUID().slice(0, 8)}", reason: "x" }) { organization { id } } }`],
    ['startSupportSession', `mutation { startSupportSession(input: { organizationId: "${platformId(organizationId)}", reason: "x" }) { token } }`],
    ['setQuota', `mutation { setQuota(input: { organizationId: "${platformId(organizationId)}", resource: PROJECTS, limit: null, reason: "x" }) { quota { limit } } }`],
  ];

  it('an organization owner gets FORBIDDEN on every platform field, and nothing is written', async () => {
    for (const [field, document] of everyPlatformField(globex.id)) {
      const response = await h.execute(document, { token: acme.owner.token });
      expect([field, response.status, response.errors]).toEqual([field, 403, [expect.objectContaining({ message: 'Only platform operators may do this', extensions: { code: 'FORBIDDEN' } })]]);
    }
    expect(await auditRows(acme.owner.id)).toEqual([]);
  });

  it('a user who claims the platform scope without being listed gets FORBIDDEN, with or without an organization', async () => {
    const claimed = await h.token(acme.owner.id, undefined, { extraClaims: { platform: true } });
    const claimedInOrg = await h.token(acme.owner.id, acme.id, { extraClaims: { platform: true } });
    for (const [field, document] of everyPlatformField(globex.id)) {
      const outside = await h.execute(document, { token: claimed });
      expect([field, outside.status, outside.errors]).toEqual([field, 403, [expect.objectContaining({ message: 'You are not a platform operator', extensions: { code: 'FORBIDDEN' } })]]);
      const inside = await h.execute(document, { token: claimedInOrg });
      expect([field, inside.status, errorCodes(inside)]).toEqual([field, 403, ['FORBIDDEN']]);
    }
    expect(await auditRows(acme.owner.id)).toEqual([]);
  });

  it('a platform token without an organization cannot call tenant fields: FORBIDDEN, saying why', async () => {
    const response = await h.execute(ProjectsQuery, { token: operator.token });
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'This needs an active organization: a token with an org claim', extensions: { code: 'FORBIDDEN' } })]);
    const mutation = await h.execute(CreateProject, { token: operator.token, variables: { input: { name: 'nope' } } });
    expect(errorCodes(mutation)).toEqual(['FORBIDDEN']);
  });
});
