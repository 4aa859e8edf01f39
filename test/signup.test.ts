import { randomUUID } from 'node:crypto';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';

/**
 * Signup routing by email domain (completeSignUp, suggestedOrganizations) and
 * SSO discovery (ssoRoute), through the GraphQL endpoint. Domains are marked
 * verified through the system client here: verifying them is test/domains.test.ts.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const SIGN_UP = `mutation($name: String) { completeSignUp(input: { organizationName: $name }) { created organization { organizationId slug name role } } }`;
const SUGGESTED = `{ suggestedOrganizations { id slug name role } }`;

type SignUp = { completeSignUp: { created: boolean; organization: { organizationId: string; slug: string; name: string; role: string } } };

const freshDomain = () => `s${randomUUID().slice(0, 8)}.example.test`;

async function verifiedDomain(org: TestOrganization, domain: string, extra: { joining?: boolean; joinRole?: 'ADMIN' | 'MEMBER' } = {}) {
  await h.system.prisma.organizationDomain.create({ data: { organizationId: org.id, domain, verified: true, verifiedAt: new Date(), verifiedMethod: 'DNS', ...extra } });
}

/** A first sign-in: a token from the identity provider with a verified email and no org claim; no user row yet. */
async function newcomer(email: string, verified = true) {
  const id = randomUUID();
  return { id, email, token: await h.token(id, undefined, { extraClaims: { email, email_verified: verified } }) };
}

const signUp = (token: string, name?: string) => h.execute<SignUp, unknown>(SIGN_UP, { token, variables: { name } });

describe('completeSignUp', () => {
  it('joins the organization that verified the email domain, as MEMBER, with member.joined; it is suggested before', async () => {
    const [acme, globex] = [await h.createOrganization('Acme'), await h.createOrganization('Globex')];
    const domain = freshDomain();
    await verifiedDomain(acme, domain);
    const carol = await newcomer(`carol@${domain}`);

    const suggested = await h.execute<{ suggestedOrganizations: { slug: string; role: string }[] }, unknown>(SUGGESTED, { token: carol.token });
    expect(suggested.data!.suggestedOrganizations).toEqual([expect.objectContaining({ slug: acme.slug, name: 'Acme', role: 'MEMBER' })]);

    const response = await signUp(carol.token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.completeSignUp).toEqual({ created: false, organization: { organizationId: acme.id, slug: acme.slug, name: 'Acme', role: 'MEMBER' } });
    expect(await h.system.prisma.membership.findMany({ where: { userId: carol.id }, select: { organizationId: true, role: true } })).toEqual([{ organizationId: acme.id, role: 'MEMBER' }]);
    expect(await h.system.prisma.user.findUniqueOrThrow({ where: { id: carol.id } })).toMatchObject({ email: carol.email, name: 'Carol' });
    expect(await h.system.prisma.event.findMany({ where: { organizationId: acme.id, type: 'member.joined' }, select: { subjectId: true, payload: true } })).toEqual([
      { subjectId: carol.id, payload: { userId: carol.id, role: 'MEMBER', via: 'domain' } },
    ]);
    expect(await h.system.prisma.membership.count({ where: { organizationId: globex.id } })).toBe(3);

    // The token for acme works now; signing up again is refused; no more suggestions.
    expect((await h.execute<{ viewer: { role: string } }, unknown>(`{ viewer { role suggestedOrganizations { slug } } }`, { token: await h.token(carol.id, acme.id, { extraClaims: { email: carol.email, email_verified: true } }) })).data).toEqual({
      viewer: { role: 'MEMBER', suggestedOrganizations: [] },
    });
    expect(errorCodes(await signUp(carol.token))).toEqual(['FAILED_PRECONDITION']);
  });

  it('gives the role the domain says (updateDomain joinRole ADMIN)', async () => {
    const acme = await h.createOrganization();
    const domain = freshDomain();
    await verifiedDomain(acme, domain);
    const updated = await h.execute(`mutation($d: String!) { updateDomain(input: { domain: $d, joinRole: ADMIN }) { domain { joining joinRole } } }`, { token: acme.admin.token, variables: { d: domain } });
    expect(updated.data).toEqual({ updateDomain: { domain: { joining: true, joinRole: 'ADMIN' } } });
    const dave = await newcomer(`dave@${domain}`);
    expect((await signUp(dave.token)).data!.completeSignUp.organization.role).toBe('ADMIN');
  });

  it('creates "<domain> Organization" with the caller as OWNER when nobody verified the domain (an unverified claim routes nowhere)', async () => {
    const claimant = await h.createOrganization();
    const domain = freshDomain();
    await h.system.prisma.organizationDomain.create({ data: { organizationId: claimant.id, domain } });
    const erin = await newcomer(`erin@${domain}`);
    const response = await signUp(erin.token);
    expect(response.errors).toBeUndefined();
    const { created, organization } = response.data!.completeSignUp;
    expect(created).toBe(true);
    expect(organization).toMatchObject({ name: `${domain} Organization`, role: 'OWNER' });
    expect(organization.organizationId).not.toBe(claimant.id);
    const row = await h.system.prisma.organization.findUniqueOrThrow({ where: { id: organization.organizationId }, include: { memberships: true, subscription: true } });
    expect(row.memberships).toEqual([expect.objectContaining({ userId: erin.id, role: 'OWNER' })]);
    expect(row.subscription).toMatchObject({ plan: 'FREE' });
    // The owner's token works at once.
    const viewer = await h.execute<{ organization: { name: string } }, unknown>(`{ organization { name } }`, { token: await h.token(erin.id, organization.organizationId) });
    expect(viewer.data).toEqual({ organization: { name: `${domain} Organization` } });
  });

  it('uses the name given', async () => {
    const frank = await newcomer(`frank@${freshDomain()}`);
    expect((await signUp(frank.token, 'Frank & Co')).data!.completeSignUp.organization).toMatchObject({ name: 'Frank & Co', slug: expect.stringMatching(/^frank-co-[0-9a-f]{6}$/) });
  });

  it('never routes a public mail domain, even one an organization holds verified', async () => {
    const squatter = await h.createOrganization();
    await h.system.prisma.organizationDomain.deleteMany({ where: { domain: 'gmail.com' } });
    await verifiedDomain(squatter, 'gmail.com');
    const grace = await newcomer(`grace.hopper.${randomUUID().slice(0, 6)}@gmail.com`);
    expect((await h.execute(SUGGESTED, { token: grace.token })).data).toEqual({ suggestedOrganizations: [] });
    const response = await signUp(grace.token);
    expect(response.data!.completeSignUp).toMatchObject({ created: true, organization: { role: 'OWNER', name: expect.stringMatching(/^Grace Hopper .*'s Organization$/) } });
    expect(await h.system.prisma.membership.count({ where: { organizationId: squatter.id } })).toBe(3);
    await h.system.prisma.organizationDomain.deleteMany({ where: { domain: 'gmail.com' } });
  });

  it('creates an organization when domain joining is switched off', async () => {
    const acme = await h.createOrganization();
    const domain = freshDomain();
    await verifiedDomain(acme, domain);
    const off = await h.execute(`mutation($d: String!) { updateDomain(input: { domain: $d, joining: false }) { domain { joining } } }`, { token: acme.owner.token, variables: { d: domain } });
    expect(off.errors).toBeUndefined();
    const heidi = await newcomer(`heidi@${domain}`);
    expect((await h.execute(SUGGESTED, { token: heidi.token })).data).toEqual({ suggestedOrganizations: [] });
    const response = await signUp(heidi.token);
    expect(response.data!.completeSignUp).toMatchObject({ created: true, organization: { role: 'OWNER' } });
    expect(response.data!.completeSignUp.organization.organizationId).not.toBe(acme.id);
    expect(await h.system.prisma.membership.count({ where: { organizationId: acme.id } })).toBe(3);
  });

  it('refuses a token without a verified email, and creates one organization only when called twice at once', async () => {
    const unverified = await newcomer(`ivan@${freshDomain()}`, false);
    expect(errorCodes(await signUp(unverified.token))).toEqual(['FAILED_PRECONDITION']);

    const judy = await newcomer(`judy@${freshDomain()}`);
    const both = await Promise.all([signUp(judy.token), signUp(judy.token)]);
    expect(both.map((r) => (r.errors ? r.errors[0].extensions!.code : 'created')).sort()).toEqual(['FAILED_PRECONDITION', 'created']);
    expect(await h.system.prisma.membership.count({ where: { userId: judy.id } })).toBe(1);
  });

  it('joins at the USERS limit of the domain organization: QUOTA_EXCEEDED, nothing written', async () => {
    const acme = await h.createOrganization();
    const domain = freshDomain();
    await verifiedDomain(acme, domain);
    await h.system.prisma.quotaOverride.create({ data: { organizationId: acme.id, resource: 'USERS', limit: 3 } });
    const kim = await newcomer(`kim@${domain}`);
    expect(errorCodes(await signUp(kim.token))).toEqual(['QUOTA_EXCEEDED']);
    expect(await h.system.prisma.membership.count({ where: { userId: kim.id } })).toBe(0);
  });
});

describe('ssoRoute', () => {
  const ROUTE = `query($email: String!) { ssoRoute(email: $email) { organizationId slug connection } }`;

  it('answers, to anyone, the organization that enforces SSO for the verified domain; null otherwise, alike', async () => {
    const [sso, plain] = [await h.createOrganization(), await h.createOrganization()];
    const [ssoDomain, plainDomain, unverifiedDomain] = [freshDomain(), freshDomain(), freshDomain()];
    await verifiedDomain(sso, ssoDomain);
    await verifiedDomain(plain, plainDomain);
    await h.system.prisma.organizationDomain.create({ data: { organizationId: sso.id, domain: unverifiedDomain } });
    await h.system.prisma.organization.update({ where: { id: sso.id }, data: { settings: { security: { enforceSSO: true } } } });

    const routed = await h.execute(ROUTE, { variables: { email: `Someone@${ssoDomain.toUpperCase()}` } });
    expect(routed.errors).toBeUndefined();
    expect(routed.data).toEqual({ ssoRoute: { organizationId: sso.id, slug: sso.slug, connection: sso.slug } });
    for (const email of [`a@${plainDomain}`, `a@${unverifiedDomain}`, `a@${freshDomain()}`, 'a@gmail.com']) {
      const none = await h.execute(ROUTE, { variables: { email } });
      expect(none).toEqual({ status: 200, data: { ssoRoute: null } });
    }
    expect(errorCodes(await h.execute(ROUTE, { variables: { email: 'not an email' } }))).toEqual(['BAD_USER_INPUT']);
  });
});
