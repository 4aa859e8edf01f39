import { encodeGlobalID } from '@pothos/plugin-relay';
import { exportAuditLog } from '../src/audit/export';
import { startHarness, errorCodes, platformId, type Harness, type TestOrganization } from './helpers/harness';

/**
 * The GraphQL surface of the audit log and of webhook endpoints, as two
 * organizations: each side sees its own, the other gets nothing.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const AUDIT_LOG = `query ($filter: AuditLogFilter, $first: Int, $after: String, $organizationId: ID) {
  auditLog(filter: $filter, first: $first, after: $after, organizationId: $organizationId) {
    edges { cursor node { action actorType actorId targetType targetId ipAddress userAgent details createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CREATE = `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url events enabled } } }`;
const UPDATE = `mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { id url events enabled description } } }`;
const ROTATE = `mutation ($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { secret endpoint { id } } }`;
const DELETE = `mutation ($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) { deletedId } }`;
const LIST = `{ webhookEndpoints { id url } }`;
const DELIVERIES = `query ($endpointId: ID!) { webhookDeliveries(endpointId: $endpointId, first: 10) { edges { node { id status } } } }`;

async function enableWebhooks(org: TestOrganization) {
  await h.system.pool.query(`UPDATE organizations SET settings = jsonb_set(settings, '{features}', coalesce(settings->'features', '{}') || '{"webhooks": true}') WHERE id = $1`, [org.id]);
}

type AuditPage = { auditLog: { edges: { cursor: string; node: { action: string; actorType: string; actorId: string | null; targetId: string | null; ipAddress: string | null; userAgent: string | null; details: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };

describe('auditLog', () => {
  it('shows administrative actions to owners and admins with actor, IP and user agent; members and other organizations see nothing of it', async () => {
    const acme = await h.createOrganization();
    const globex = await h.createOrganization();
    const headers = { 'user-agent': 'audit-test/1.0' };
    const promoted = await h.execute(`mutation ($input: UpdateMemberInput!) { updateMember(input: $input) { __typename } }`, {
      token: acme.owner.token,
      headers,
      remoteAddress: '198.51.100.7',
      variables: { input: { userId: encodeGlobalID('User', acme.member.id), role: 'ADMIN' } },
    });
    expect(promoted.errors).toBeUndefined();
    const page = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: acme.admin.token, variables: { filter: { action: 'member.role_changed' } } });
    expect(page.errors).toBeUndefined();
    expect(page.data!.auditLog.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ action: 'member.role_changed', actorType: 'USER', actorId: acme.owner.id, targetId: acme.member.id, ipAddress: '198.51.100.7', userAgent: 'audit-test/1.0' }),
    ]);
    expect(JSON.parse(page.data!.auditLog.edges[0].node.details)).toEqual({ userId: acme.member.id, from: 'MEMBER', to: 'ADMIN' });

    // A member is refused; the other organization's admin sees only its own log.
    const asMember = await h.execute(AUDIT_LOG, { token: (await h.createUser(acme.id, 'MEMBER')).token });
    expect(errorCodes(asMember)).toEqual(['FORBIDDEN']);
    const other = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: globex.owner.token, variables: { filter: { action: 'member.role_changed' } } });
    expect(other.data!.auditLog.edges).toEqual([]);
    // ...and may not name acme's organization.
    const named = await h.execute(AUDIT_LOG, { token: globex.owner.token, variables: { organizationId: platformId(acme.id) } });
    expect(errorCodes(named)).toEqual(['FORBIDDEN']);
  });

  it('pages with first/after and filters by actor and time; a platform operator reads any organization', async () => {
    const org = await h.createOrganization();
    for (const name of ['a', 'b', 'c']) {
      await h.execute(`mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }`, {
        token: org.owner.token,
        variables: { input: { name: `Renamed ${name}` } },
      });
    }
    const first = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: org.owner.token, variables: { first: 2, filter: { action: 'organization.renamed', actor: org.owner.id } } });
    expect(first.errors).toBeUndefined();
    expect(first.data!.auditLog.edges).toHaveLength(2);
    expect(first.data!.auditLog.pageInfo.hasNextPage).toBe(true);
    const rest = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: org.owner.token, variables: { first: 2, after: first.data!.auditLog.pageInfo.endCursor, filter: { action: 'organization.renamed' } } });
    expect(rest.data!.auditLog.edges.map((e) => JSON.parse(e.node.details).to)).toEqual(['Renamed a']);
    const future = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: org.owner.token, variables: { filter: { since: new Date(Date.now() + 3600_000).toISOString() } } });
    expect(future.data!.auditLog.edges).toEqual([]);

    const operator = await h.createPlatformOperator();
    const platform = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: operator.token, variables: { organizationId: platformId(org.id), filter: { action: 'organization.renamed' } } });
    expect(platform.errors).toBeUndefined();
    expect(platform.data!.auditLog.edges).toHaveLength(3);
  });
});

describe('webhook endpoints', () => {
  it('are managed by owners and admins when the feature is on; the secret is shown once; another organization gets NOT_FOUND', async () => {
    const acme = await h.createOrganization();
    const globex = await h.createOrganization();
    const off = await h.execute(CREATE, { token: acme.owner.token, variables: { input: { url: 'https://hooks.example.com/a', events: ['project.created'] } } });
    expect(errorCodes(off)).toEqual(['FORBIDDEN']);
    await enableWebhooks(acme);
    await enableWebhooks(globex);
    const member = await h.execute(CREATE, { token: acme.member.token, variables: { input: { url: 'https://hooks.example.com/a', events: ['project.created'] } } });
    expect(errorCodes(member)).toEqual(['FORBIDDEN']);

    const created = await h.execute<{ createWebhookEndpoint: { secret: string; endpoint: { id: string; url: string } } }, unknown>(CREATE, {
      token: acme.admin.token,
      variables: { input: { url: 'https://hooks.example.com/a?token=abc', events: ['project.created', 'member.*'], description: 'CI' } },
    });
    expect(created.errors).toBeUndefined();
    const { secret, endpoint } = created.data!.createWebhookEndpoint;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // The runtime role cannot read it back: nothing in the API returns it again.
    const listed = await h.execute<{ webhookEndpoints: { id: string; url: string }[] }, unknown>(LIST, { token: acme.owner.token });
    expect(listed.data!.webhookEndpoints).toEqual([{ id: endpoint.id, url: 'https://hooks.example.com/a?token=abc' }]);
    expect(JSON.stringify(listed)).not.toContain(secret);

    const rotated = await h.execute<{ rotateWebhookSecret: { secret: string } }, unknown>(ROTATE, { token: acme.owner.token, variables: { input: { id: endpoint.id } } });
    expect(rotated.data!.rotateWebhookSecret.secret).not.toBe(secret);
    const { rows } = await h.system.pool.query(`SELECT secret FROM webhook_endpoints WHERE organization_id = $1`, [acme.id]);
    expect(rows).toEqual([{ secret: rotated.data!.rotateWebhookSecret.secret }]);

    const updated = await h.execute<{ updateWebhookEndpoint: { endpoint: { enabled: boolean; events: string[] } } }, unknown>(UPDATE, {
      token: acme.owner.token,
      variables: { input: { id: endpoint.id, enabled: false, events: ['*'] } },
    });
    expect(updated.data!.updateWebhookEndpoint.endpoint).toMatchObject({ enabled: false, events: ['*'] });

    // The other organization: the same id is not found, whatever it tries.
    for (const [doc, variables] of [
      [UPDATE, { input: { id: endpoint.id, enabled: true } }],
      [ROTATE, { input: { id: endpoint.id } }],
      [DELETE, { input: { id: endpoint.id } }],
      [DELIVERIES, { endpointId: endpoint.id }],
    ] as const) {
      const response = await h.execute(doc, { token: globex.owner.token, variables });
      expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    }
    expect((await h.execute<{ webhookEndpoints: unknown[] }, unknown>(LIST, { token: globex.owner.token })).data!.webhookEndpoints).toEqual([]);

    // Every change is in the audit log, without the secret or the URL's query.
    const audit = await h.execute<AuditPage, unknown>(AUDIT_LOG, { token: acme.owner.token, variables: { first: 50 } });
    const actions = audit.data!.auditLog.edges.map((e) => e.node.action).filter((a) => a.startsWith('webhook_endpoint.'));
    expect(actions).toEqual(['webhook_endpoint.disabled', 'webhook_endpoint.secret_rotated', 'webhook_endpoint.created']);
    expect(JSON.stringify(audit)).not.toContain('token=abc');
    expect(JSON.stringify(audit)).not.toContain(secret);

    const deleted = await h.execute(DELETE, { token: acme.owner.token, variables: { input: { id: endpoint.id } } });
    expect(deleted.errors).toBeUndefined();
  });

  it('refuses private, loopback and link-local URLs, bad event types and too many endpoints', async () => {
    const org = await h.createOrganization();
    await enableWebhooks(org);
    for (const url of ['http://127.0.0.1/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://169.254.169.254/latest', 'http://localhost:8080/', 'ftp://example.com/']) {
      const response = await h.execute(CREATE, { token: org.owner.token, variables: { input: { url, events: ['project.created'] } } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    }
    const badTypes = await h.execute(CREATE, { token: org.owner.token, variables: { input: { url: 'https://hooks.example.com/', events: ['Project Created'] } } });
    expect(errorCodes(badTypes)).toEqual(['BAD_USER_INPUT']);
    for (let i = 0; i < 20; i += 1) {
      // An event this test never causes: no delivery is attempted to these hosts.
      const ok = await h.execute(CREATE, { token: org.owner.token, variables: { input: { url: `https://hooks.example.com/${i}`, events: ['project.deleted'] } } });
      expect(ok.errors).toBeUndefined();
    }
    const tooMany = await h.execute(CREATE, { token: org.owner.token, variables: { input: { url: 'https://hooks.example.com/21', events: ['project.deleted'] } } });
    expect(errorCodes(tooMany)).toEqual(['FAILED_PRECONDITION']);
  });
});

describe('npm run audit:export', () => {
  it('writes the log as JSON lines, oldest first, from --since on, and audits the export', async () => {
    const org = await h.createOrganization();
    const other = await h.createOrganization();
    const lines: string[] = [];
    const { entries } = await exportAuditLog(h.system.pool, { slug: org.slug, since: new Date(Date.now() - 3600_000), write: (line) => void lines.push(line) });
    const parsed = lines.map((line) => JSON.parse(line));
    expect(entries).toBe(parsed.length);
    expect(parsed.filter((e) => e.action === 'member.added')).toHaveLength(3);
    const times = parsed.map((e) => Date.parse(e.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(parsed.every((e) => e.organizationId === org.id)).toBe(true);
    expect(JSON.stringify(parsed)).not.toContain(other.id);
    const { rows } = await h.system.pool.query(`SELECT details FROM audit_log WHERE organization_id = $1 AND action = 'audit.exported'`, [org.id]);
    expect(rows).toEqual([{ details: expect.objectContaining({ entries }) }]);
  });
});

describe("the integrations' event lists", () => {
  const SETTINGS = `{ organization { settings { integrations { slack { events } datadog { events } } } } }`;
  const UPDATE_ORG = `mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }`;
  type Lists = { organization: { settings: { integrations: { slack: { events: string[] }; datadog: { events: string[] } } } } };

  it('default to the notable events, take known event types only, and go back to the default with null', async () => {
    const org = await h.createOrganization();
    const read = async () => (await h.execute<Lists, unknown>(SETTINGS, { token: org.admin.token })).data!.organization.settings.integrations;
    const initial = await read();
    expect(initial.slack.events).toContain('security.access_denied');
    expect(initial.slack.events).toContain('quota.exceeded');
    expect(initial.datadog.events).toEqual(initial.slack.events);

    const refused = await h.execute(UPDATE_ORG, {
      token: org.admin.token,
      variables: { input: { settings: { integrations: { slack: { events: ['project.created', 'project.exploded'] }, datadog: { events: ['member.added', 'member.added'] } } } } },
    });
    expect(refused.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [
        { field: 'input.settings.integrations.slack.events.1', message: 'must be a known event type, such as member.added or security.access_denied' },
        { field: 'input.settings.integrations.datadog.events', message: 'must not repeat an event type' },
      ],
    });
    expect(await read()).toEqual(initial);

    const set = await h.execute(UPDATE_ORG, { token: org.admin.token, variables: { input: { settings: { integrations: { slack: { events: ['project.created', 'security.access_denied'] } } } } } });
    expect(set.errors).toBeUndefined();
    expect((await read()).slack.events).toEqual(['project.created', 'security.access_denied']);
    expect((await read()).datadog.events).toEqual(initial.datadog.events);
    await h.execute(UPDATE_ORG, { token: org.admin.token, variables: { input: { settings: { integrations: { slack: { events: null } } } } } });
    expect((await read()).slack.events).toEqual(initial.slack.events);
  });
});
