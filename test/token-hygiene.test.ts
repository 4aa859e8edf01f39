import { SignJWT } from 'jose';
import { createTokenVerifier, TokenError } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { createSafeLogger, escapeLogText, MAX_ARGUMENT_CHARS } from '../src/logging';
import { errorCodes, TEST_SECRET, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { ViewerQuery } from './operations';

/**
 * Tokens and inputs, replayed as an attacker sent them (issue 13): every claim
 * the gateway acts on is required or type-checked, ids are canonical, malformed
 * ids are BAD_USER_INPUT, and user text reaches the log escaped and bounded.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));

const secret = new TextEncoder().encode(TEST_SECRET);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token with exactly these claims (no defaults added), signed with the test secret. */
function rawToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret);
}

async function refused(token: string, message: string) {
  const response = await h.execute(ViewerQuery, { token });
  expect(response.status).toBe(401);
  expect(response.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'UNAUTHENTICATED' } })]);
  expect(response.data).toBeUndefined();
}

describe('claims', () => {
  it('refuses a token without exp', async () => {
    await refused(await rawToken({ sub: acme.owner.id, org: acme.id, iat: nowSeconds() }), 'Invalid token: missing required "exp" claim');
  });

  it('refuses an iat in the future (it would make sessionTimeout count from then)', async () => {
    const iat = nowSeconds() + 3600 * 24 * 365;
    await refused(await rawToken({ sub: acme.owner.id, org: acme.id, iat, exp: iat + 60 }), 'Invalid token: iat is in the future');
  });

  it.each([
    ['a string amr', { amr: 'not-sso-at-all' }, 'Invalid token: amr must be an array of strings'],
    ['a numeric amr', { amr: 42 }, 'Invalid token: amr must be an array of strings'],
    ['an amr of numbers', { amr: [1, 2] }, 'Invalid token: amr must be an array of strings'],
    ['a string platform', { platform: 'true' }, 'Invalid token: platform must be a boolean'],
    ['a numeric sub', { sub: 42 }, 'Invalid token: sub must be a user id (a UUID)'],
    ['an org that is not a UUID', { org: `${'x'.repeat(36)}` }, 'Invalid token: the org claim must be an organization id (a UUID)'],
    ['an org array', { org: ['a'] }, 'Invalid token: the org claim must be an organization id (a UUID)'],
    ['a string iat', { iat: 'yesterday' }, 'Invalid token: "iat" claim must be a number'],
  ])('refuses %s: UNAUTHENTICATED, 401, never a 500', async (_, claims, message) => {
    await refused(await rawToken({ sub: acme.owner.id, org: acme.id, exp: nowSeconds() + 60, ...claims }), message);
  });

  it('compares amr by element under enforceSSO: "sso" inside a string does not pass, ["sso"] does', async () => {
    const org = await h.createOrganization();
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { plan: 'ENTERPRISE' } });
    await h.system.prisma.organization.update({ where: { id: org.id }, data: { settings: { security: { enforceSSO: true } } } });
    const base = { sub: org.member.id, org: org.id, iat: nowSeconds(), exp: nowSeconds() + 60 };
    await refused(await rawToken({ ...base, amr: 'sso' }), 'Invalid token: amr must be an array of strings');
    await refused(await rawToken({ ...base, amr: ['pwd', 'ssox'] }), 'This organization requires single sign-on (SSO)');
    const ok = await h.execute(ViewerQuery, { token: await rawToken({ ...base, amr: ['pwd', 'sso'] }) });
    expect(ok.errors).toBeUndefined();
  });

  it('reads an upper-case org and sub as the same, canonical ids', async () => {
    const token = await rawToken({ sub: acme.member.id.toUpperCase(), org: acme.id.toUpperCase(), iat: nowSeconds(), exp: nowSeconds() + 60 });
    const response = await h.execute('{ viewer { role } organization { slug } }', { token });
    expect(response).toEqual({ status: 200, data: { viewer: { role: 'MEMBER' }, organization: { slug: acme.slug } } });
    // And the other organization is still out of reach, whatever the spelling.
    const other = await h.execute(ViewerQuery, { token: await rawToken({ sub: acme.member.id, org: globex.id.toUpperCase(), exp: nowSeconds() + 60 }) });
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
  });

  it('the verifier returns lower-case ids', async () => {
    const verify = createTokenVerifier({ secret: TEST_SECRET });
    const claims = await verify(await rawToken({ sub: acme.member.id.toUpperCase(), org: acme.id.toUpperCase(), exp: nowSeconds() + 60 }));
    expect([claims.sub, claims.org]).toEqual([acme.member.id, acme.id]);
  });
});

describe('issuer and audience', () => {
  it('are required when configured: a token without them, or with others, is refused', async () => {
    const verify = createTokenVerifier({ secret: TEST_SECRET, issuer: 'https://idp.example', audience: 'tenantgate' });
    const claims = { sub: acme.member.id, org: acme.id, exp: nowSeconds() + 60 };
    await expect(verify(await rawToken(claims))).rejects.toThrow(TokenError);
    await expect(verify(await rawToken({ ...claims, iss: 'https://idp.example' }))).rejects.toThrow('Invalid token: missing required "aud" claim');
    await expect(verify(await rawToken({ ...claims, iss: 'https://idp.example', aud: 'another-service' }))).rejects.toThrow('unexpected "aud" claim value');
    await expect(verify(await rawToken({ ...claims, iss: 'https://idp.example', aud: 'tenantgate' }))).resolves.toMatchObject({ sub: acme.member.id });
  });

  it('must be configured in production: the gateway does not start without them', () => {
    const production = loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_SECRET });
    expect(() => createTokenVerifier(production.auth)).toThrow('set JWT_ISSUER and JWT_AUDIENCE');
    const bound = loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_SECRET, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'tenantgate' });
    expect(() => createTokenVerifier(bound.auth)).not.toThrow();
  });
});

describe('id arguments', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  it.each([
    ['garbage', 'garbage'],
    ['escape codes and newlines in the decoded type', b64('Project\u001b[31m\nFAKE LOG LINE:0190a0a0-0000-7000-8000-000000000000')],
    ['an unknown type', b64('Nope:0190a0a0-0000-7000-8000-000000000000')],
    ['a type that is not a node', b64('Viewer:0190a0a0-0000-7000-8000-000000000000')],
    ['a row id that is not a UUID', b64('Project:123')],
    ['1.3 MB of it', b64(`Project:${'\u001b[2J'.repeat(300_000)}`)],
  ])('node(id:) with %s is BAD_USER_INPUT, 400', async (_, id) => {
    const started = performance.now();
    const response = await h.execute('query($id: ID!) { node(id: $id) { id } }', { token: acme.owner.token, variables: { id } });
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toBe('Invalid input: id: is not a valid ID');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an upper-case row id finds the row (ids are canonical), and another organization\'s does not', async () => {
    const created = await h.execute('mutation { createProject(input: { name: "Canonical" }) { project { id } } }', { token: acme.owner.token });
    const id = (created.data as { createProject: { project: { id: string } } }).createProject.project.id;
    const [typename, rowId] = Buffer.from(id, 'base64').toString().split(':');
    const upper = Buffer.from(`${typename}:${rowId.toUpperCase()}`).toString('base64');
    const mine = await h.execute('query($id: ID!) { node(id: $id) { id } }', { token: acme.owner.token, variables: { id: upper } });
    expect(mine).toEqual({ status: 200, data: { node: { id } } });
    const theirs = await h.execute('query($id: ID!) { node(id: $id) { id } }', { token: globex.owner.token, variables: { id: upper } });
    expect(theirs).toEqual({ status: 200, data: { node: null } });
  });

  it.each([
    ['updateProject', 'mutation($id: ID!) { updateProject(input: { id: $id, name: "x" }) { project { id } } }'],
    ['deleteProject', 'mutation($id: ID!) { deleteProject(input: { id: $id }) { deletedProjectId } }'],
    ['removeMember', 'mutation($id: ID!) { removeMember(input: { userId: $id }) { removedUserId } }'],
  ])('%s with a malformed id is BAD_USER_INPUT', async (_, document) => {
    for (const id of ['%%%', Buffer.from('Project:not-a-uuid').toString('base64'), Buffer.from('User:------------------------------------').toString('base64')]) {
      const response = await h.execute(document, { token: acme.owner.token, variables: { id } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('the log', () => {
  it('escapes control characters and bounds each argument', () => {
    expect(escapeLogText('a\nb\u001b[31mc\u2028')).toBe('a\\nb\\u001b[31mc\\u2028');
    const long = escapeLogText('x'.repeat(MAX_ARGUMENT_CHARS * 10));
    expect(long.length).toBeLessThan(MAX_ARGUMENT_CHARS + 100);
  });

  it('writes an error carrying user text on one bounded line', () => {
    const lines: string[] = [];
    const sink = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (line: string) => lines.push(line) };
    createSafeLogger(sink).error(new Error(`Unknown type Project\u001b[31m\nFAKE: ${'y'.repeat(2_000_000)}`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f]/);
    expect(lines[0].length).toBeLessThan(MAX_ARGUMENT_CHARS + 100);
  });
});
