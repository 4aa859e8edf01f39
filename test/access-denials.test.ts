import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { SignJWT } from 'jose';
import { createTokenVerifier, supportTokenSigner } from '../src/auth/tokens';
import { createGateway, type Gateway } from '../src/yoga';
import { createUsageRecorder } from '../src/usage/recorder';
import { createDenialRecorder } from '../src/audit/access-denials';
import { startHarness, TEST_SECRET, type Harness, type TestOrganization, type TestUser } from './helpers/harness';

/**
 * Denied access audited and alerted (src/audit/access-denials.ts, migration
 * 20261205160100_access_denials): every kind of denial makes exactly one
 * `security.access_denied` entry where it belongs and at most one alert per
 * actor, reason and 10 minutes, and the caller gets the very bytes it got
 * before (compared with a gateway that records nothing, or with a missing id).
 * The alerts' delivery (Slack, webhooks, the platform's webhook) is tested in
 * test/events.test.ts, the one file that runs an event worker.
 */

let h: Harness;
/** The same gateway, recording nothing: what a refusal looked like before. */
let plain: Gateway;
beforeAll(async () => {
  h = await startHarness();
  plain = createGateway({
    db: h.db,
    system: h.system,
    verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
    signSupportToken: supportTokenSigner({ secret: TEST_SECRET }),
    logging: false,
    graphiql: false,
    usage: createUsageRecorder({ pool: h.db.pool, flushIntervalMs: 0, flushEveryCalls: Infinity }),
    accessDenials: false,
  });
});
afterAll(async () => {
  await plain.dispose();
  await h.close();
});

interface Sent {
  status: number;
  bytes: string;
}

async function send(gateway: Gateway, query: string, { token, variables, remoteAddress = '127.0.0.1', headers = {} }: { token?: string; variables?: unknown; remoteAddress?: string; headers?: Record<string, string> }): Promise<Sent> {
  const response = await gateway.fetch('http://tenantgate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  }, { req: { socket: { remoteAddress } } });
  return { status: response.status, bytes: await response.text() };
}

/** The request through the recording gateway and through the plain one: the same status and bytes. */
async function refusedAlike(query: string, options: Parameters<typeof send>[2]): Promise<Sent> {
  const recorded = await send(h.gateway, query, options);
  const before = await send(plain, query, options);
  expect(recorded).toEqual(before);
  return recorded;
}

interface AuditRow {
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: { reason: string; severity: string; operation?: string; code?: string; outsider?: boolean; quota?: unknown; targetType?: string };
}

async function denials(organizationId: string): Promise<AuditRow[]> {
  await h.denials.settled();
  const { rows } = await h.system.pool.query<AuditRow>(
    `SELECT actor_type, actor_id, target_type, target_id, ip, user_agent, details FROM audit_log
      WHERE organization_id = $1 AND action = 'security.access_denied' ORDER BY created_at, id`,
    [organizationId],
  );
  return rows;
}

async function alerts(organizationId: string, type = 'security.access_denied') {
  await h.denials.settled();
  const { rows } = await h.system.pool.query<{ actor_type: string; actor_id: string | null; payload: Record<string, unknown> }>(
    `SELECT actor_type, actor_id, payload FROM events WHERE organization_id = $1 AND type = $2 ORDER BY occurred_at`,
    [organizationId, type],
  );
  return rows;
}

async function platformLog(where: { actor?: string; target?: string; ip?: string }) {
  await h.denials.settled();
  const { rows } = await h.system.pool.query<{ severity: string; reason: string; actor_user_id: string | null; actor_organization_id: string | null; target_organization_id: string | null; details: Record<string, unknown> }>(
    `SELECT severity, reason, actor_user_id, actor_organization_id, target_organization_id, details FROM platform_security_log
      WHERE ($1::uuid IS NULL OR actor_user_id = $1) AND ($2::uuid IS NULL OR target_organization_id = $2) AND ($3::text IS NULL OR details->>'ip' = $3)
      ORDER BY created_at`,
    [where.actor ?? null, where.target ?? null, where.ip ?? null],
  );
  return rows;
}

async function settings(org: TestOrganization, section: string, value: unknown) {
  await h.system.pool.query(`UPDATE organizations SET settings = jsonb_set(settings, $2::text[], $3::jsonb) WHERE id = $1`, [org.id, [section], JSON.stringify(value)]);
}

async function project(org: TestOrganization, name = 'Secret plans'): Promise<string> {
  const { rows } = await h.system.pool.query<{ id: string }>(`INSERT INTO projects (organization_id, id, name, owner_id, updated_at) VALUES ($1, gen_random_uuid(), $2, $3, now()) RETURNING id`, [org.id, name, org.owner.id]);
  return rows[0].id;
}

const sign = (claims: Record<string, unknown>, subject: string, times: { iat: number; exp: number }, secret = TEST_SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuedAt(times.iat).setExpirationTime(times.exp).sign(new TextEncoder().encode(secret));

const NODE = `query ($id: ID!) { node(id: $id) { id ... on Project { name } } }`;
const GET = `query ($id: ID!) { project(id: $id) { id name } }`;
const UPDATE = `mutation ($id: ID!) { updateProject(input: { id: $id, name: "Mine now" }) { project { id } } }`;
const DELETE = `mutation ($input: DeleteProjectInput!) { deleteProject(input: $input) { deletedProjectId } }`;
const SHARE = `mutation ($id: ID!, $to: String!) { share(input: { id: $id, organizations: [$to], permissions: [READ] }) { __typename } }`;

describe('a request for another organization\'s id', () => {
  it('answers as for a missing id, byte for byte, and is recorded once per request: the caller\'s log, the target\'s (an outsider, never who), the platform\'s; one alert per window', async () => {
    const acme = await h.createOrganization();
    const globex = await h.createOrganization();
    const theirs = encodeGlobalID('Project', await project(globex));
    const missing = encodeGlobalID('Project', randomUUID());
    const attempts: [string, (id: string) => unknown][] = [
      [NODE, (id) => ({ id })],
      [GET, (id) => ({ id })],
      [UPDATE, (id) => ({ id })],
      [DELETE, (id) => ({ input: { id } })],
      [SHARE, (id) => ({ id, to: acme.slug })],
    ];
    const caller = { token: acme.admin.token, remoteAddress: '203.0.113.50', headers: { 'user-agent': 'prober/1' } };
    for (const [query, variables] of attempts) {
      const denied = await send(h.gateway, query, { ...caller, variables: variables(theirs) });
      const absent = await send(h.gateway, query, { ...caller, variables: variables(missing) });
      expect(denied).toEqual(absent);
      expect(denied.bytes).not.toContain(globex.id);
    }
    // Nothing was changed nor shared.
    expect((await h.system.pool.query(`SELECT name FROM projects WHERE organization_id = $1`, [globex.id])).rows).toEqual([{ name: 'Secret plans' }]);
    expect((await h.system.pool.query(`SELECT count(*)::int AS n FROM share_grants WHERE organization_id = $1`, [globex.id])).rows[0].n).toBe(0);

    // The caller's organization: one entry per attempt, who and from where; not the id, nor whose it is.
    const own = await denials(acme.id);
    expect(own.map((r) => r.details.operation)).toEqual(['query node', 'query project', 'mutation updateProject', 'mutation deleteProject', 'mutation share']);
    for (const row of own) {
      expect(row).toEqual({
        actor_type: 'user', actor_id: acme.admin.id, target_type: 'request', target_id: null, ip: '203.0.113.50', user_agent: 'prober/1',
        details: expect.objectContaining({ reason: 'cross_organization', severity: 'high', targetType: 'Project' }),
      });
      expect(JSON.stringify(row)).not.toContain(globex.id);
    }
    // The target organization: that an outsider tried, on which of its rows; no identity, no address.
    const target = await denials(globex.id);
    expect(target).toHaveLength(5);
    for (const row of target) {
      expect(row).toEqual({ actor_type: 'outsider', actor_id: null, target_type: 'Project', target_id: decodeId(theirs), ip: null, user_agent: null, details: { reason: 'cross_organization', severity: 'high', outsider: true } });
    }
    // The platform: everything.
    const platform = await platformLog({ actor: acme.admin.id });
    expect(platform).toHaveLength(5);
    expect(platform[0]).toMatchObject({ severity: 'high', reason: 'cross_organization', actor_organization_id: acme.id, target_organization_id: globex.id, details: { ip: '203.0.113.50', targetId: decodeId(theirs) } });

    // One alert in each organization for the five attempts (the window is per actor and reason).
    expect(await alerts(acme.id)).toEqual([{ actor_type: 'user', actor_id: acme.admin.id, payload: { reason: 'cross_organization', severity: 'high', operation: 'query node' } }]);
    expect(await alerts(globex.id)).toEqual([{ actor_type: 'system', actor_id: null, payload: { reason: 'cross_organization', severity: 'high', outsider: true } }]);

    // Ten minutes later: the next attempt alerts again, with the count of those that did not.
    await h.system.pool.query(`UPDATE security_alert_windows SET window_started_at = window_started_at - interval '11 minutes' WHERE actor_key = $1`, [acme.admin.id]);
    await send(h.gateway, GET, { ...caller, variables: { id: theirs } });
    const later = await alerts(acme.id);
    expect(later).toHaveLength(2);
    expect(later[1].payload).toEqual({ reason: 'cross_organization', severity: 'high', operation: 'query project', count: 4 });
    expect(await denials(acme.id)).toHaveLength(6);
  });

  it('records nothing for a missing id, nor for a row the caller may see', async () => {
    const acme = await h.createOrganization();
    const mine = encodeGlobalID('Project', await project(acme));
    await send(h.gateway, GET, { token: acme.member.token, variables: { id: encodeGlobalID('Project', randomUUID()) } });
    await send(h.gateway, NODE, { token: acme.member.token, variables: { id: encodeGlobalID('Project', randomUUID()) } });
    const seen = await send(h.gateway, GET, { token: acme.member.token, variables: { id: mine } });
    expect(JSON.parse(seen.bytes).data.project.id).toBe(mine);
    expect(await denials(acme.id)).toEqual([]);
    expect(await platformLog({ actor: acme.member.id })).toEqual([]);
  });
});

function decodeId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1];
}

/** Runs the refusal twice: both answered as before, both recorded, one alert. */
async function twice(query: string, options: Parameters<typeof send>[2]): Promise<Sent> {
  const first = await refusedAlike(query, options);
  const second = await refusedAlike(query, options);
  expect(second).toEqual(first);
  return first;
}

function expectDenials(rows: AuditRow[], actor: TestUser, reason: string, severity: string, extra: Record<string, unknown> = {}) {
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row).toMatchObject({ actor_type: 'user', actor_id: actor.id, target_type: 'request', details: { reason, severity, ...extra } });
  }
}

describe('the other denials: each recorded once in the caller\'s organization, alerted once per window, answered as before', () => {
  it('a role the caller lacks (FORBIDDEN)', async () => {
    const acme = await h.createOrganization();
    const refused = await twice(`mutation { updateOrganization(input: { name: "Taken over" }) { __typename } }`, { token: acme.member.token });
    expect(JSON.parse(refused.bytes).errors[0].extensions.code).toBe('FORBIDDEN');
    expectDenials(await denials(acme.id), acme.member, 'forbidden', 'low', { operation: 'mutation updateOrganization', code: 'FORBIDDEN' });
    expect(await alerts(acme.id)).toHaveLength(1);
  });

  it('the IP allow-list', async () => {
    const acme = await h.createOrganization();
    await settings(acme, 'security', { allowedIPs: ['10.0.0.0/8'] });
    const refused = await twice(`{ viewer { role } }`, { token: acme.member.token, remoteAddress: '198.51.100.23' });
    expect(refused.status).toBe(403);
    const rows = await denials(acme.id);
    expectDenials(rows, acme.member, 'ip_not_allowed', 'medium', { code: 'FORBIDDEN' });
    expect(rows[0].ip).toBe('198.51.100.23');
    expect(await alerts(acme.id)).toHaveLength(1);
  });

  it('an expired session: the organization\'s session timeout, and a token past its exp', async () => {
    const acme = await h.createOrganization();
    await settings(acme, 'security', { sessionTimeout: 300 });
    const now = Math.floor(Date.now() / 1000);
    const stale = await sign({ org: acme.id }, acme.member.id, { iat: now - 1000, exp: now + 3600 });
    const first = await refusedAlike(`{ viewer { role } }`, { token: stale });
    expect(first.status).toBe(401);
    const expired = await sign({ org: acme.id }, acme.member.id, { iat: now - 7200, exp: now - 60 });
    const second = await refusedAlike(`{ viewer { role } }`, { token: expired });
    expect(JSON.parse(second.bytes).errors[0].message).toBe('Token expired');
    expectDenials(await denials(acme.id), acme.member, 'session_expired', 'low');
    expect(await alerts(acme.id)).toHaveLength(1);
  });

  it('single sign-on enforced', async () => {
    const acme = await h.createOrganization();
    await settings(acme, 'security', { enforceSSO: true });
    const refused = await twice(`{ viewer { role } }`, { token: acme.admin.token });
    expect(refused.status).toBe(401);
    expectDenials(await denials(acme.id), acme.admin, 'sso_required', 'low', { code: 'UNAUTHENTICATED' });
    expect(await alerts(acme.id)).toHaveLength(1);
  });

  it('a quota: quota.exceeded recorded although the refused mutation wrote nothing', async () => {
    const acme = await h.createOrganization();
    await h.system.pool.query(`INSERT INTO quota_overrides (organization_id, resource, "limit") VALUES ($1, 'PROJECTS', 0)`, [acme.id]);
    const refused = await twice(`mutation { createProject(input: { name: "One too many" }) { project { id } } }`, { token: acme.member.token });
    expect(JSON.parse(refused.bytes).errors[0].extensions.code).toBe('QUOTA_EXCEEDED');
    expect((await h.system.pool.query(`SELECT count(*)::int AS n FROM projects WHERE organization_id = $1`, [acme.id])).rows[0].n).toBe(0);
    expectDenials(await denials(acme.id), acme.member, 'quota_exceeded', 'low', { operation: 'mutation createProject', quota: { resource: 'PROJECTS', limit: 0, used: 0 } });
    expect(await alerts(acme.id)).toHaveLength(1);
    expect(await alerts(acme.id, 'quota.exceeded')).toEqual([{ actor_type: 'user', actor_id: acme.member.id, payload: { resource: 'PROJECTS', limit: 0, used: 0 } }]);
  });

  it('an operation limit (QUERY_TOO_COMPLEX)', async () => {
    const acme = await h.createOrganization();
    const aliases = `{ ${Array.from({ length: 150 }, (_, i) => `a${i}: projects(first: 100) { edges { node { id } } }`).join(' ')} }`;
    const refused = await twice(aliases, { token: acme.member.token });
    expect(refused.status).toBe(400);
    expectDenials(await denials(acme.id), acme.member, 'operation_limit', 'low', { code: 'QUERY_TOO_COMPLEX', operation: 'measure:aliases' });
    expect(await alerts(acme.id)).toHaveLength(1);
  });
});

describe('platform operators', () => {
  it("a support session's refused mutation: recorded in the organization's log under actor SUPPORT", async () => {
    const acme = await h.createOrganization();
    const operator = await h.createPlatformOperator();
    const started = await h.execute<{ startSupportSession: { token: string } }, unknown>(
      'mutation($input: StartSupportSessionInput!) { startSupportSession(input: $input) { token } }',
      { token: operator.token, variables: { input: { organizationId: encodeGlobalID('PlatformOrganization', acme.id), reason: 'Ticket 1: access check' } } },
    );
    const session = started.data!.startSupportSession.token;
    const refused = await twice(`mutation ($id: ID!) { removeMember(input: { userId: $id }) { __typename } }`, { token: session, variables: { id: encodeGlobalID('User', acme.member.id) } });
    expect(JSON.parse(refused.bytes).errors[0].extensions.reason).toBe('SUPPORT_SESSION_REFUSED');
    const rows = await denials(acme.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ actor_type: 'support', actor_id: operator.id, details: { reason: 'forbidden', code: 'FORBIDDEN', operation: 'mutation' } });
    expect(await alerts(acme.id)).toEqual([{ actor_type: 'support', actor_id: operator.id, payload: { reason: 'forbidden', severity: 'low', operation: 'mutation' } }]);
  });

  it('a user who claims the platform scope and is no operator: the platform\'s log', async () => {
    const acme = await h.createOrganization();
    const claimer = await h.token(acme.member.id, undefined, { extraClaims: { platform: true } });
    const refused = await twice(`{ __typename }`, { token: claimer });
    expect(refused.status).toBe(403);
    expect(await denials(acme.id)).toEqual([]);
    expect(await platformLog({ actor: acme.member.id })).toEqual([
      expect.objectContaining({ severity: 'medium', reason: 'not_a_platform_operator', actor_organization_id: null, target_organization_id: null }),
      expect.objectContaining({ severity: 'medium', reason: 'not_a_platform_operator' }),
    ]);
  });
});

describe('tokens', () => {
  it('a forged token: the platform\'s log only (no organization may be told on its word), by address', async () => {
    const acme = await h.createOrganization();
    const now = Math.floor(Date.now() / 1000);
    const forged = await sign({ org: acme.id }, acme.owner.id, { iat: now, exp: now + 3600 }, 'not-the-secret-but-long-enough-for-hs256');
    const refused = await twice(`{ viewer { role } }`, { token: forged, remoteAddress: '192.0.2.77' });
    expect(refused.status).toBe(401);
    expect(await denials(acme.id)).toEqual([]);
    expect(await alerts(acme.id)).toEqual([]);
    const logged = await platformLog({ ip: '192.0.2.77' });
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ severity: 'medium', reason: 'invalid_token', actor_user_id: null, actor_organization_id: null, target_organization_id: null });
  });

  it('a revoked member\'s token: the organization is told an outsider tried (high), the platform who', async () => {
    const acme = await h.createOrganization();
    const leaver = await h.createUser(acme.id, 'ADMIN');
    await h.system.pool.query(`DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, [acme.id, leaver.id]);
    const before = (await denials(acme.id)).length;
    const refused = await twice(`{ viewer { role } }`, { token: leaver.token, remoteAddress: '192.0.2.78' });
    expect(refused.status).toBe(403);
    const rows = (await denials(acme.id)).slice(before);
    expect(rows).toEqual([
      { actor_type: 'outsider', actor_id: null, target_type: 'organization', target_id: null, ip: null, user_agent: null, details: { reason: 'not_a_member', severity: 'high', outsider: true } },
      { actor_type: 'outsider', actor_id: null, target_type: 'organization', target_id: null, ip: null, user_agent: null, details: { reason: 'not_a_member', severity: 'high', outsider: true } },
    ]);
    expect(await alerts(acme.id)).toEqual([{ actor_type: 'system', actor_id: null, payload: { reason: 'not_a_member', severity: 'high', outsider: true } }]);
    const logged = await platformLog({ actor: leaver.id });
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ severity: 'high', reason: 'not_a_member', target_organization_id: acme.id, actor_organization_id: null, details: { ip: '192.0.2.78' } });
  });
});

describe('the success path', () => {
  it('records nothing and leaves the recorder idle', async () => {
    const acme = await h.createOrganization();
    const ok = await send(h.gateway, `{ viewer { role } projects(first: 5) { edges { node { id } } } }`, { token: acme.member.token });
    expect(JSON.parse(ok.bytes).errors).toBeUndefined();
    expect(await denials(acme.id)).toEqual([]);
    expect(await platformLog({ actor: acme.member.id })).toEqual([]);
  });
});

describe('the recorder', () => {
  it('writes one batch at a time: a storm of refused requests costs one connection and a statement per batch, and loses nothing', async () => {
    let statements = 0;
    const recorder = createDenialRecorder({
      pool: { query: ((text: string, values: unknown[]) => { statements += 1; return h.db.pool.query(text, values); }) as never },
      onError: (error) => { throw error; },
    });
    const address = '192.0.2.201';
    for (let i = 0; i < 30; i += 1) {
      const request = new Request('http://tenantgate.test/graphql', { headers: { 'user-agent': `storm/${i}` } });
      recorder.note(request, { reason: 'invalid_token', code: 'UNAUTHENTICATED' });
      recorder.flush(request, address);
    }
    await recorder.settled();
    // The first request's write, then the 29 that queued meanwhile in one.
    expect(statements).toBe(2);
    const logged = await platformLog({ ip: address });
    expect(logged).toHaveLength(30);
    expect(new Set(logged.map((r) => r.details.userAgent)).size).toBe(30);
  });
});
