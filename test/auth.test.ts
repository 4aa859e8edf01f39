import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier } from '../src/auth/tokens';
import { createGateway } from '../src/yoga';
import { errorCodes, TEST_SECRET, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { ProjectsQuery, ViewerQuery } from './operations';

/**
 * The request context: the bearer token is verified, its `org` claim is the
 * active organization, and membership is checked on every request. Each failure
 * is an error with a code and an HTTP status, and no data.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));

describe('without a token', () => {
  it('may introspect (GraphiQL loads the schema) but reads no data: UNAUTHENTICATED, 401', async () => {
    const introspection = await h.execute('{ __schema { queryType { name } } }');
    expect(introspection).toEqual({ status: 200, data: { __schema: { queryType: { name: 'Query' } } } });
    const data = await h.execute(ProjectsQuery);
    expect(data.status).toBe(401);
    expect(errorCodes(data)).toEqual(['UNAUTHENTICATED']);
    expect(data.data).toBeNull();
  });

  it('cannot run a mutation', async () => {
    const response = await h.execute('mutation { createProject(input: { name: "x" }) { project { id } } }');
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(await h.system.prisma.project.count({ where: { name: 'x', organizationId: { in: [acme.id, globex.id] } } })).toBe(0);
  });
});

describe('a token that does not verify', () => {
  it.each([
    ['a bad signature', async () => (await h.token(acme.owner.id, acme.id)).replace(/.{4}$/, 'AAAA'), 'Invalid token'],
    ['another secret', async () => new SignJWT({ org: acme.id }).setProtectedHeader({ alg: 'HS256' }).setSubject(acme.owner.id).setExpirationTime('1h').sign(new TextEncoder().encode('some-other-secret-of-enough-length')), 'Invalid token'],
    ['an expired token', async () => h.token(acme.owner.id, acme.id, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), 'Token expired'],
    ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: acme.owner.id, org: acme.id })).toString('base64url')}.`, 'Invalid token'],
    ['garbage', async () => 'not.a.jwt', 'Invalid token'],
  ])('refuses %s: UNAUTHENTICATED, 401, no data', async (_, makeToken, message) => {
    const response = await h.execute(ViewerQuery, { token: await makeToken() });
    expect(response.status).toBe(401);
    expect(response.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(response.data).toBeUndefined();
  });

  it('lets a token without an org claim in for signup only: everything else is FORBIDDEN, 403, "needs an active organization"', async () => {
    const response = await h.execute(ViewerQuery, { token: await h.token(acme.owner.id, undefined) });
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'This needs an active organization: a token with an org claim', extensions: { code: 'FORBIDDEN' } })]);
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const response = await h.execute(ViewerQuery, { headers: { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' } });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('membership', () => {
  it('is FORBIDDEN, 403, for a valid token of a user who is not a member of the org in the claim', async () => {
    const response = await h.execute(ViewerQuery, { token: await h.token(acme.owner.id, globex.id) });
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'You are not a member of this organization', extensions: { code: 'FORBIDDEN' } })]);
    expect(response.data).toBeUndefined();
  });

  it('is checked on every request: a removed member loses access at once, with the same token', async () => {
    const user = await h.createUser(acme.id, 'MEMBER');
    expect((await h.execute(ViewerQuery, { token: user.token })).status).toBe(200);
    await h.system.prisma.membership.delete({ where: { organizationId_userId: { organizationId: acme.id, userId: user.id } } });
    const after = await h.execute(ViewerQuery, { token: user.token });
    expect(after.status).toBe(403);
    expect(errorCodes(after)).toEqual(['FORBIDDEN']);
  });

  it('lets a user of two organizations choose the active one with the org claim', async () => {
    const user = await h.createUser(acme.id, 'MEMBER');
    await h.system.prisma.membership.create({ data: { organizationId: globex.id, userId: user.id, role: 'ADMIN' } });
    const inAcme = await h.execute(ViewerQuery, { token: await h.token(user.id, acme.id) });
    const inGlobex = await h.execute(ViewerQuery, { token: await h.token(user.id, globex.id) });
    expect([inAcme.data?.organization.slug, inAcme.data?.viewer.role]).toEqual([acme.slug, 'MEMBER']);
    expect([inGlobex.data?.organization.slug, inGlobex.data?.viewer.role]).toEqual([globex.slug, 'ADMIN']);
  });
});

describe('tokens from an identity provider (JWKS)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey as CryptoKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => jwks.close(resolve)));

  const idpToken = (claims: { iss?: string; aud?: string }, key: CryptoKey | Uint8Array = privateKey, alg = 'RS256') => {
    const jwt = new SignJWT({ org: acme.id }).setProtectedHeader({ alg, kid: 'test-key' }).setSubject(acme.member.id).setIssuedAt().setExpirationTime('5m');
    if (claims.iss) jwt.setIssuer(claims.iss);
    if (claims.aud) jwt.setAudience(claims.aud);
    return jwt.sign(key);
  };

  it('accepts a token signed by the provider with the configured issuer and audience, and refuses others', async () => {
    const gateway = createGateway({
      db: h.db,
      verifyToken: createTokenVerifier({ jwksUrl, issuer: 'https://idp.example', audience: 'tenantgate' }),
      logging: false,
    });
    const ask = async (token: string) => {
      const response = await gateway.fetch('http://tenantgate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
      return { status: response.status, body: await response.json() };
    };
    await expect(ask(await idpToken({ iss: 'https://idp.example', aud: 'tenantgate' }))).resolves.toEqual({ status: 200, body: { data: { viewer: { role: 'MEMBER' } } } });
    expect((await ask(await idpToken({ iss: 'https://evil.example', aud: 'tenantgate' }))).status).toBe(401);
    expect((await ask(await idpToken({ iss: 'https://idp.example', aud: 'other-app' }))).status).toBe(401);
    // An HS256 token signed with the (public) key material is the classic confusion attack.
    expect((await ask(await idpToken({ iss: 'https://idp.example', aud: 'tenantgate' }, new TextEncoder().encode(TEST_SECRET), 'HS256'))).status).toBe(401);
    // Writes its usage while the harness's pool is open, rather than from its timer after the file ends.
    await gateway.dispose();
  });
});
