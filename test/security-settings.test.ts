import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { ViewerQuery } from './operations';

/**
 * Settings that act: an organization's security settings are enforced on every
 * request, before any data is read; features gate fields (see organizations.test.ts).
 */

let h: Harness;
let clock = Date.now();

beforeAll(async () => {
  // A proxy at 10.0.0.0/8 is trusted to report the client in X-Forwarded-For.
  h = await startHarness({ trustedProxies: ['10.0.0.0/8'], now: () => clock });
});
afterAll(() => h.close());
beforeEach(() => {
  clock = Date.now();
});

async function organizationWith(security: Record<string, string | number | boolean | string[]>): Promise<TestOrganization> {
  const org = await h.createOrganization();
  await h.system.prisma.organization.update({ where: { id: org.id }, data: { settings: { security } } });
  return org;
}

describe('allowedIPs', () => {
  it('lets in an address inside the list and refuses one outside with FORBIDDEN', async () => {
    const org = await organizationWith({ allowedIPs: ['203.0.113.0/24', '2001:db8::/32'] });
    const inside = await h.execute(ViewerQuery, { token: org.member.token, remoteAddress: '203.0.113.50' });
    expect(inside.errors).toBeUndefined();
    const inside6 = await h.execute(ViewerQuery, { token: org.member.token, remoteAddress: '2001:db8::7' });
    expect(inside6.errors).toBeUndefined();
    const mapped = await h.execute(ViewerQuery, { token: org.member.token, remoteAddress: '::ffff:203.0.113.9' });
    expect(mapped.errors).toBeUndefined();

    const outside = await h.execute(ViewerQuery, { token: org.member.token, remoteAddress: '198.51.100.1' });
    expect(outside.status).toBe(403);
    expect(outside.errors).toEqual([expect.objectContaining({ message: 'IP address not allowed for this organization', extensions: { code: 'FORBIDDEN' } })]);
    expect(outside.data).toBeUndefined();
  });

  it('applies to the organization that set it only', async () => {
    await organizationWith({ allowedIPs: ['203.0.113.0/24'] });
    const open = await h.createOrganization();
    expect((await h.execute(ViewerQuery, { token: open.member.token, remoteAddress: '198.51.100.1' })).errors).toBeUndefined();
  });

  it('ignores X-Forwarded-For from an untrusted peer: a client cannot claim an allowed address', async () => {
    const org = await organizationWith({ allowedIPs: ['203.0.113.0/24'] });
    const spoofed = await h.execute(ViewerQuery, {
      token: org.member.token,
      remoteAddress: '198.51.100.1',
      headers: { 'x-forwarded-for': '203.0.113.50' },
    });
    expect(errorCodes(spoofed)).toEqual(['FORBIDDEN']);
  });

  it('reads X-Forwarded-For from a trusted proxy, right to left, skipping trusted hops', async () => {
    const org = await organizationWith({ allowedIPs: ['203.0.113.0/24'] });
    const viaProxies = await h.execute(ViewerQuery, {
      token: org.member.token,
      remoteAddress: '10.0.0.2',
      // The client may prepend anything; the first untrusted hop from the right is the client.
      headers: { 'x-forwarded-for': '198.51.100.66, 203.0.113.50, 10.0.0.9' },
    });
    expect(viaProxies.errors).toBeUndefined();
    const outsider = await h.execute(ViewerQuery, {
      token: org.member.token,
      remoteAddress: '10.0.0.2',
      headers: { 'x-forwarded-for': '203.0.113.50, 198.51.100.66' },
    });
    expect(errorCodes(outsider)).toEqual(['FORBIDDEN']);
  });
});

describe('sessionTimeout', () => {
  it('refuses a token older than the timeout with UNAUTHENTICATED "Session expired"', async () => {
    const org = await organizationWith({ sessionTimeout: 3600 });
    const fresh = await h.execute(ViewerQuery, { token: org.member.token });
    expect(fresh.errors).toBeUndefined();
    clock = Date.now() + 3601 * 1000;
    const stale = await h.execute(ViewerQuery, { token: org.member.token });
    expect(stale.status).toBe(401);
    expect(stale.errors).toEqual([expect.objectContaining({ message: 'Session expired', extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('leaves other organizations alone', async () => {
    await organizationWith({ sessionTimeout: 300 });
    const other = await h.createOrganization();
    clock = Date.now() + 3600 * 1000;
    expect((await h.execute(ViewerQuery, { token: other.member.token })).errors).toBeUndefined();
  });
});

describe('enforceSSO', () => {
  it('accepts only tokens whose amr claim says sso', async () => {
    const org = await organizationWith({ enforceSSO: true });
    const password = await h.execute(ViewerQuery, { token: await h.token(org.member.id, org.id, { extraClaims: { amr: ['pwd'] } }) });
    expect(password.status).toBe(401);
    expect(password.errors).toEqual([
      expect.objectContaining({ message: 'This organization requires single sign-on (SSO)', extensions: { code: 'UNAUTHENTICATED' } }),
    ]);
    expect(errorCodes(await h.execute(ViewerQuery, { token: org.member.token }))).toEqual(['UNAUTHENTICATED']);
    const sso = await h.execute(ViewerQuery, { token: await h.token(org.member.id, org.id, { extraClaims: { amr: ['sso', 'mfa'] } }) });
    expect(sso.errors).toBeUndefined();
  });
});
