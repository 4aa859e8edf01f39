import { randomUUID } from 'node:crypto';
import { createServices, type Services } from '../src/domains/services';
import { createNetwork, ProbeError } from '../src/domains/network';
import { dnsRecordName, HTTP_PROOF_PATH } from '../src/domains/rules';
import { recheckDomains } from '../src/domains/recheck';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { closedPort, linkIn, startDns, startHttp, startSmtp, type TestDns, type TestHttp, type TestSmtp } from './helpers/network-servers';

/**
 * Domain verification end to end, against a real DNS server (dns2), a real HTTP
 * server and a real SMTP server (smtp-server), all on 127.0.0.1.
 */

let h: Harness;
let dns: TestDns;
let web: TestHttp;
let smtp: TestSmtp;
let services: Services;
let ports: { http: number; https: number };

beforeAll(async () => {
  [dns, web, smtp] = await Promise.all([startDns(), startHttp(), startSmtp()]);
  ports = { http: web.port, https: await closedPort() };
  services = createServices({
    dnsServers: [dns.server],
    // The test's web server is on 127.0.0.1: the SSRF guard's switch for tests.
    allowPrivate: true,
    ports,
    timeoutMs: 2000,
    smtpUrl: smtp.url,
    mailFrom: 'tenantgate <no-reply@tenantgate.test>',
    publicUrl: 'http://tenantgate.test',
  });
  h = await startHarness({ services });
});

afterAll(async () => {
  await h?.close();
  services?.mailer.close();
  await Promise.all([dns?.close(), web?.close(), smtp?.close()]);
});

const ADD = `mutation($domain: String!) { addDomain(input: { domain: $domain }) { domain { domain verified verification { token expiresAt dnsRecord { type name value } httpUrl instructions } } } }`;
const VERIFY = `mutation($domain: String!, $method: DomainProofMethod!) { verifyDomain(input: { domain: $domain, method: $method }) { domain { domain verified verifiedAt verification { method } } } }`;
const DOMAINS = `{ organization { domains { domain verified } } }`;

/** A new organization on ENTERPRISE: FREE allows no custom domains. */
async function organization(): Promise<TestOrganization> {
  const org = await h.createOrganization();
  await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { plan: 'ENTERPRISE' } });
  return org;
}

const freshDomain = () => `d${randomUUID().slice(0, 8)}.example.test`;

async function addDomain(org: TestOrganization, domain: string): Promise<string> {
  const response = await h.execute<{ addDomain: { domain: { verification: { token: string } } } }, unknown>(ADD, { token: org.owner.token, variables: { domain } });
  expect(response.errors).toBeUndefined();
  return response.data!.addDomain.domain.verification.token;
}

const verify = (org: TestOrganization, domain: string, method: 'DNS' | 'HTTP') => h.execute<{ verifyDomain: { domain: { verified: boolean } } }, unknown>(VERIFY, { token: org.owner.token, variables: { domain, method } });

async function events(organizationId: string, type: string) {
  return h.system.prisma.event.findMany({ where: { organizationId, type }, orderBy: { occurredAt: 'asc' } });
}

describe('by DNS', () => {
  it('verifies with the TXT record, records domain.verified, and the other organization sees nothing', async () => {
    const [acme, globex] = [await organization(), await organization()];
    const domain = freshDomain();
    const added = await h.execute<{ addDomain: { domain: { verification: { token: string; dnsRecord: { name: string; value: string }; instructions: string } } } }, unknown>(ADD, { token: acme.owner.token, variables: { domain } });
    const verification = added.data!.addDomain.domain.verification;
    expect(verification.dnsRecord).toEqual({ type: 'TXT', name: `_tenantgate-verify.${domain}`, value: verification.token });
    expect(verification.instructions).toContain(`_tenantgate-verify.${domain}`);

    const before = await verify(acme, domain, 'DNS');
    expect(errorCodes(before)).toEqual(['VERIFICATION_FAILED']);
    expect(before.errors![0].extensions!.reason).toBe('RECORD_NOT_FOUND');

    dns.txt.set(dnsRecordName(domain), ['some-other-record', verification.token]);
    const after = await verify(acme, domain, 'DNS');
    expect(after.errors).toBeUndefined();
    expect(after.data!.verifyDomain.domain).toMatchObject({ domain, verified: true, verification: { method: 'DNS' } });
    expect(await events(acme.id, 'domain.verified')).toEqual([expect.objectContaining({ subjectId: domain, actorId: acme.owner.id, payload: { domain, method: 'DNS' } })]);

    const theirs = await h.execute<{ organization: { domains: { domain: string }[] } }, unknown>(DOMAINS, { token: globex.owner.token });
    expect(theirs.data!.organization.domains.map((d) => d.domain)).not.toContain(domain);
    expect(await events(globex.id, 'domain.verified')).toEqual([]);
  });

  it('refuses a wrong token', async () => {
    const acme = await organization();
    const domain = freshDomain();
    await addDomain(acme, domain);
    dns.txt.set(dnsRecordName(domain), ['not-the-token']);
    const response = await verify(acme, domain, 'DNS');
    expect(errorCodes(response)).toEqual(['VERIFICATION_FAILED']);
    expect(response.errors![0].extensions!.reason).toBe('WRONG_TOKEN');
    expect((await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain } })).verified).toBe(false);
  });

  it('refuses an expired token, and a regenerated one works', async () => {
    const acme = await organization();
    const domain = freshDomain();
    const token = await addDomain(acme, domain);
    dns.txt.set(dnsRecordName(domain), [token]);
    await h.system.prisma.organizationDomain.updateMany({ where: { domain }, data: { tokenExpiresAt: new Date(Date.now() - 1000) } });
    const expired = await verify(acme, domain, 'DNS');
    expect(errorCodes(expired)).toEqual(['VERIFICATION_FAILED']);
    expect(expired.errors![0].extensions!.reason).toBe('TOKEN_EXPIRED');

    const regenerated = await h.execute<{ regenerateDomainToken: { domain: { verification: { token: string; expiresAt: string } } } }, unknown>(
      `mutation($domain: String!) { regenerateDomainToken(input: { domain: $domain }) { domain { verification { token expiresAt } } } }`,
      { token: acme.admin.token, variables: { domain } },
    );
    const fresh = regenerated.data!.regenerateDomainToken.domain.verification;
    expect(fresh.token).not.toBe(token);
    expect(new Date(fresh.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    // The old record no longer counts.
    expect(errorCodes(await verify(acme, domain, 'DNS'))).toEqual(['VERIFICATION_FAILED']);
    dns.txt.set(dnsRecordName(domain), [fresh.token]);
    expect((await verify(acme, domain, 'DNS')).data!.verifyDomain.domain.verified).toBe(true);
  });

  it('refuses a domain verified by another organization (CONFLICT naming it) until the platform operator releases it', async () => {
    const [first, second] = [await organization(), await organization()];
    const domain = freshDomain();
    const firstToken = await addDomain(first, domain);
    // An unverified claim blocks nobody: the second organization claims it too.
    const secondToken = await addDomain(second, domain);
    dns.txt.set(dnsRecordName(domain), [firstToken, secondToken]);
    expect((await verify(first, domain, 'DNS')).data!.verifyDomain.domain.verified).toBe(true);

    const lost = await verify(second, domain, 'DNS');
    expect(errorCodes(lost)).toEqual(['CONFLICT']);
    expect(lost.errors![0].message).toContain(domain);
    expect(lost.errors![0].extensions!.domain).toBe(domain);

    const operator = await h.createPlatformOperator();
    const released = await h.execute(`mutation($domain: String!) { releaseDomain(input: { domain: $domain, reason: "dispute #12: the domain was sold" }) { domain } }`, { token: operator.token, variables: { domain } });
    expect(released.errors).toBeUndefined();
    expect(await events(first.id, 'domain.unverified')).toEqual([expect.objectContaining({ subjectId: domain })]);
    expect((await verify(second, domain, 'DNS')).data!.verifyDomain.domain.verified).toBe(true);
  });

  it('lets only one of two organizations win a race for the same domain', async () => {
    const [a, b] = [await organization(), await organization()];
    const domain = freshDomain();
    dns.txt.set(dnsRecordName(domain), [await addDomain(a, domain), await addDomain(b, domain)]);
    const results = await Promise.all([verify(a, domain, 'DNS'), verify(b, domain, 'DNS')]);
    expect(results.map((r) => (r.errors ? r.errors[0].extensions!.code : 'verified')).sort()).toEqual(['CONFLICT', 'verified']);
    expect(await h.system.prisma.organizationDomain.count({ where: { domain, verified: true } })).toBe(1);
  });

  it('rate-limits attempts per domain', async () => {
    const acme = await organization();
    const domain = freshDomain();
    await addDomain(acme, domain);
    const codes: unknown[] = [];
    for (let i = 0; i < services.attempts.max + 1; i++) codes.push(errorCodes(await verify(acme, domain, 'DNS'))[0]);
    expect(codes.slice(0, services.attempts.max).every((c) => c === 'VERIFICATION_FAILED')).toBe(true);
    expect(codes[services.attempts.max]).toBe('RATE_LIMITED');
  });

  it('is for owners and admins: a member is FORBIDDEN and sees no token', async () => {
    const acme = await organization();
    const domain = freshDomain();
    await addDomain(acme, domain);
    const response = await h.execute(VERIFY, { token: acme.member.token, variables: { domain, method: 'DNS' } });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    const seen = await h.execute<{ organization: { domains: { verification: unknown }[] } }, unknown>(`{ organization { domains { verification { token } } } }`, { token: acme.member.token });
    expect(seen.data!.organization.domains).toEqual([{ verification: null }]);
  });
});

describe('by HTTP', () => {
  it('verifies with the file (HTTPS refused, then HTTP), following a redirect', async () => {
    const acme = await organization();
    const domain = freshDomain();
    const token = await addDomain(acme, domain);
    dns.a.set(domain, ['127.0.0.1']);
    dns.a.set(`www.${domain}`, ['127.0.0.1']);
    web.redirects.set(`${domain}${HTTP_PROOF_PATH}`, `http://www.${domain}:${web.port}${HTTP_PROOF_PATH}`);
    web.files.set(`www.${domain}${HTTP_PROOF_PATH}`, `${token}\n`);
    const response = await verify(acme, domain, 'HTTP');
    expect(response.errors).toBeUndefined();
    expect(response.data!.verifyDomain.domain).toMatchObject({ verified: true, verification: { method: 'HTTP' } });
    expect(web.requests).toEqual(expect.arrayContaining([`${domain}${HTTP_PROOF_PATH}`, `www.${domain}${HTTP_PROOF_PATH}`]));
  });

  it('refuses a file with another token, and a missing file', async () => {
    const acme = await organization();
    const domain = freshDomain();
    await addDomain(acme, domain);
    dns.a.set(domain, ['127.0.0.1']);
    const missing = await verify(acme, domain, 'HTTP');
    expect(missing.errors![0].extensions).toMatchObject({ code: 'VERIFICATION_FAILED', reason: 'HTTP_STATUS' });
    web.files.set(`${domain}${HTTP_PROOF_PATH}`, 'wrong');
    const wrong = await verify(acme, domain, 'HTTP');
    expect(wrong.errors![0].extensions).toMatchObject({ code: 'VERIFICATION_FAILED', reason: 'WRONG_TOKEN' });
  });

  it('stops after 3 redirects', async () => {
    const network = createNetwork({ dnsServers: [dns.server], allowPrivate: true, ports, timeoutMs: 2000 });
    const domain = freshDomain();
    dns.a.set(domain, ['127.0.0.1']);
    for (let i = 0; i < 5; i++) web.redirects.set(`${domain}/hop${i}`, `http://${domain}:${web.port}/hop${i + 1}`);
    web.redirects.set(`${domain}${HTTP_PROOF_PATH}`, `http://${domain}:${web.port}/hop0`);
    await expect(network.fetchProof(domain, HTTP_PROOF_PATH)).rejects.toMatchObject({ reason: 'TOO_MANY_REDIRECTS' });
  });
});

describe('the SSRF guard', () => {
  const guarded = () => createNetwork({ dnsServers: [dns.server], allowPrivate: false, ports, timeoutMs: 2000 });

  it.each([
    ['127.0.0.1', 'a'],
    ['10.0.0.1', 'a'],
    ['169.254.169.254', 'a'],
    ['::1', 'aaaa'],
  ] as const)('refuses a name that resolves to %s, before connecting', async (address, family) => {
    const domain = freshDomain();
    (family === 'a' ? dns.a : dns.aaaa).set(domain, [address]);
    const requestsBefore = web.requests.length;
    const started = Date.now();
    const failure = await guarded().fetchProof(domain, HTTP_PROOF_PATH).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProbeError);
    expect(failure).toMatchObject({ reason: 'REFUSED_ADDRESS' });
    // Refused at once, not after a connection attempt timed out (10.0.0.1 and 169.254.169.254 would hang).
    expect(Date.now() - started).toBeLessThan(1500);
    expect(web.requests.length).toBe(requestsBefore);
  });

  it('refuses an address literal (what a redirect may name) like a name', async () => {
    for (const literal of ['169.254.169.254', '10.0.0.1', '[::1]']) {
      await expect(guarded().fetchProof(literal, HTTP_PROOF_PATH)).rejects.toMatchObject({ reason: 'REFUSED_ADDRESS' });
    }
  });

  it('refuses a name with one private address among public ones', async () => {
    const domain = freshDomain();
    dns.a.set(domain, ['93.184.216.34', '10.0.0.1']);
    await expect(guarded().fetchProof(domain, HTTP_PROOF_PATH)).rejects.toMatchObject({ reason: 'REFUSED_ADDRESS' });
  });

  it('refuses through verifyDomain too (REFUSED_ADDRESS), when the switch is off', async () => {
    const acme = await organization();
    const domain = freshDomain();
    const token = await addDomain(acme, domain);
    dns.a.set(domain, ['127.0.0.1']);
    web.files.set(`${domain}${HTTP_PROOF_PATH}`, token);
    const open = services.network;
    services.network = guarded();
    try {
      const response = await verify(acme, domain, 'HTTP');
      expect(response.errors![0].extensions).toMatchObject({ code: 'VERIFICATION_FAILED', reason: 'REFUSED_ADDRESS' });
    } finally {
      services.network = open;
    }
    expect(web.requests).not.toContain(`${domain}${HTTP_PROOF_PATH}`);
  });
});

describe('by email', () => {
  const SEND = `mutation($domain: String!, $mailbox: DomainVerificationMailbox!) { sendDomainVerificationEmail(input: { domain: $domain, mailbox: $mailbox }) { sentTo domain { verified verification { emailSentTo } } } }`;

  async function follow(link: string): Promise<Response> {
    const page = await h.gateway.fetch(link);
    expect(page.status).toBe(200);
    const token = /name="token" value="([^"]+)"/.exec(await page.text())![1];
    return h.gateway.fetch('http://tenantgate.test/domains/verify-email', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
  }

  it('sends a link to the chosen mailbox through SMTP; following it verifies the domain', async () => {
    const acme = await organization();
    const domain = freshDomain();
    await addDomain(acme, domain);
    const sent = await h.execute<{ sendDomainVerificationEmail: { sentTo: string } }, unknown>(SEND, { token: acme.owner.token, variables: { domain, mailbox: 'HOSTMASTER' } });
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendDomainVerificationEmail.sentTo).toBe(`hostmaster@${domain}`);
    const mail = await smtp.next(`hostmaster@${domain}`);
    const link = linkIn(mail);
    expect(link).toMatch(/^http:\/\/tenantgate\.test\/domains\/verify-email\?token=/);

    // A GET (a mail scanner's preview) changes nothing.
    expect((await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain } })).verified).toBe(false);
    const confirmed = await follow(link);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain(`${domain} is verified`);
    const row = await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain } });
    expect(row).toMatchObject({ verified: true, verifiedMethod: 'EMAIL', organizationId: acme.id });
    expect(await events(acme.id, 'domain.verified')).toEqual([expect.objectContaining({ subjectId: domain, payload: expect.objectContaining({ method: 'EMAIL' }) })]);
  });

  it('refuses an expired link, a forged one, and one for a domain another organization verified first', async () => {
    const [acme, globex] = [await organization(), await organization()];
    const domain = freshDomain();
    await addDomain(acme, domain);
    await h.execute(SEND, { token: acme.owner.token, variables: { domain, mailbox: 'ADMIN' } });
    const link = linkIn(await smtp.next(`admin@${domain}`));
    await h.system.prisma.organizationDomain.updateMany({ where: { domain, organizationId: acme.id }, data: { tokenExpiresAt: new Date(Date.now() - 1000) } });
    expect((await follow(link)).status).toBe(410);
    expect((await follow(`http://tenantgate.test/domains/verify-email?token=${'x'.repeat(43)}`)).status).toBe(404);

    // globex verifies by DNS meanwhile; acme's fresh link then loses.
    const globexToken = await addDomain(globex, domain);
    await h.execute(SEND, { token: acme.owner.token, variables: { domain, mailbox: 'WEBMASTER' } });
    const second = linkIn(await smtp.next(`webmaster@${domain}`));
    dns.txt.set(dnsRecordName(domain), [globexToken]);
    expect((await verify(globex, domain, 'DNS')).data!.verifyDomain.domain.verified).toBe(true);
    expect((await follow(second)).status).toBe(409);
    expect(await h.system.prisma.organizationDomain.findMany({ where: { domain, verified: true }, select: { organizationId: true } })).toEqual([{ organizationId: globex.id }]);
  });
});

describe('the daily re-check', () => {
  it('keeps a domain whose record is there, and unverifies one whose record has been gone for 7 days, telling its owner', async () => {
    const acme = await organization();
    const [kept, lost] = [freshDomain(), freshDomain()];
    for (const domain of [kept, lost]) {
      dns.txt.set(dnsRecordName(domain), [await addDomain(acme, domain)]);
      expect((await verify(acme, domain, 'DNS')).data!.verifyDomain.domain.verified).toBe(true);
    }
    dns.txt.delete(dnsRecordName(lost));
    const only = { domains: [kept, lost] };

    const day0 = Date.now();
    await recheckDomains(h.system, { ...services, now: () => day0 }, only);
    const missing = await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain: lost } });
    expect(missing).toMatchObject({ verified: true });
    expect(missing.proofLostAt).not.toBeNull();

    await recheckDomains(h.system, { ...services, now: () => day0 + 6 * 86_400_000 }, only);
    expect((await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain: lost } })).verified).toBe(true);

    const result = await recheckDomains(h.system, { ...services, now: () => day0 + 7 * 86_400_000 + 1000 }, only);
    expect(result).toMatchObject({ checked: 2, unverified: [lost] });
    expect(await h.system.prisma.organizationDomain.findMany({ where: { domain: { in: [kept, lost] } }, select: { domain: true, verified: true }, orderBy: { verified: 'asc' } })).toEqual([
      { domain: lost, verified: false },
      { domain: kept, verified: true },
    ]);
    expect(await events(acme.id, 'domain.unverified')).toEqual([expect.objectContaining({ subjectId: lost, actorId: null })]);
    const notice = await smtp.next(acme.owner.email);
    expect(notice.subject).toContain(lost);
  });

  it('forgets a lost proof that comes back', async () => {
    const acme = await organization();
    const domain = freshDomain();
    const token = await addDomain(acme, domain);
    dns.txt.set(dnsRecordName(domain), [token]);
    await verify(acme, domain, 'DNS');
    dns.txt.delete(dnsRecordName(domain));
    await recheckDomains(h.system, services, { domains: [domain] });
    dns.txt.set(dnsRecordName(domain), [token]);
    await recheckDomains(h.system, services, { domains: [domain] });
    expect(await h.system.prisma.organizationDomain.findFirstOrThrow({ where: { domain } })).toMatchObject({ verified: true, proofLostAt: null });
  });
});

describe('the branding custom domain', () => {
  const SET = `mutation($host: String!) { updateOrganization(input: { settings: { branding: { customDomain: $host } } }) { organization { settings { branding { customDomain } } } } }`;

  it('must be under a verified domain of the organization', async () => {
    const acme = await organization();
    const domain = freshDomain();
    const token = await addDomain(acme, domain);
    const refused = await h.execute(SET, { token: acme.owner.token, variables: { host: `app.${domain}` } });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    dns.txt.set(dnsRecordName(domain), [token]);
    await verify(acme, domain, 'DNS');
    const accepted = await h.execute(SET, { token: acme.owner.token, variables: { host: `app.${domain}` } });
    expect(accepted.errors).toBeUndefined();
  });
});
