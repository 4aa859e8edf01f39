import { encodeGlobalID } from '@pothos/plugin-relay';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { makeWorkerUtils } from 'graphile-worker';
import { Webhook } from 'standardwebhooks';
import { createTenantClient } from '../src/db/tenant';
import { createEventHandlers } from '../src/events/handlers';
import { startEventWorker, type EventWorker } from '../src/events/worker';
import { startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { eventually, startReceiver, type Receiver } from './helpers/receiver';
import { newWebhookSecret } from '../src/events/signing';
import { post } from '../src/events/http-post';

/**
 * The outbox, the relay and the deliveries, against real PostgreSQL and local
 * HTTP receivers. SECURITY note: only this file starts event workers (a worker
 * relays every organization's events; two files' workers would take each
 * other's jobs).
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const CREATE_PROJECT = `mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id name } } }`;

async function enableWebhooks(org: TestOrganization) {
  await h.system.pool.query(`UPDATE organizations SET settings = jsonb_set(settings, '{features}', coalesce(settings->'features', '{}') || '{"webhooks": true}') WHERE id = $1`, [org.id]);
}

async function addEndpoint(org: TestOrganization, url: string, events = ['project.created']) {
  const secret = newWebhookSecret();
  const { rows } = await h.system.pool.query<{ id: string }>(
    `INSERT INTO webhook_endpoints (organization_id, url, event_types, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
    [org.id, url, events, secret],
  );
  return { id: rows[0].id, secret };
}

async function delivery(org: TestOrganization, endpointId: string) {
  const { rows } = await h.system.pool.query(`SELECT * FROM deliveries WHERE organization_id = $1 AND endpoint_id = $2`, [org.id, endpointId]);
  return rows[0] as { id: string; status: string; attempts: number; attempt_log: { statusCode: number | null; latencyMs: number }[]; event_id: string } | undefined;
}

describe('the outbox', () => {
  it('records an event, with its actor, IP and user agent, in the transaction of the change', async () => {
    const org = await h.createOrganization();
    const created = await h.execute<{ createProject: { project: { id: string } } }, unknown>(CREATE_PROJECT, {
      token: org.admin.token,
      variables: { input: { name: 'Evented' } },
      headers: { 'user-agent': "agent 'quoted' \\ ü", 'x-request-id': 'req-1' },
      remoteAddress: '203.0.113.9',
    });
    expect(created.errors).toBeUndefined();
    const { rows } = await h.system.pool.query(`SELECT type, subject_type, actor_type, actor_id, ip, user_agent, request_id, payload FROM events WHERE organization_id = $1 AND type LIKE 'project.%'`, [org.id]);
    expect(rows).toEqual([
      expect.objectContaining({ type: 'project.created', subject_type: 'project', actor_type: 'user', actor_id: org.admin.id, ip: '203.0.113.9', user_agent: "agent 'quoted' \\ ü", request_id: 'req-1', payload: expect.objectContaining({ name: 'Evented' }) }),
    ]);
  });

  it('records no event for a mutation that rolls back', async () => {
    const org = await h.createOrganization();
    const tenant = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id, role: 'OWNER' });
    await expect(
      tenant.$transaction(async (tx) => {
        await tx.project.create({ data: { name: 'Rolled back', ownerId: org.owner.id } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const count = async () => (await h.system.pool.query(`SELECT count(*)::int AS n FROM events WHERE organization_id = $1 AND type = 'project.created'`, [org.id])).rows[0].n;
    expect(await count()).toBe(0);
    // The same transaction committed does record it: the zero above is not vacuous.
    await tenant.$transaction(async (tx) => {
      await tx.project.create({ data: { name: 'Committed', ownerId: org.owner.id } });
    });
    expect(await count()).toBe(1);
  });

  it('is append-only for the runtime role', async () => {
    const org = await h.createOrganization();
    const tenant = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id, role: 'OWNER' });
    await expect(tenant.$executeRaw`UPDATE events SET type = 'x.y'`).rejects.toThrow(/permission denied/);
    await expect(tenant.$executeRaw`DELETE FROM audit_log`).rejects.toThrow(/permission denied/);
  });
});

describe('delivery', () => {
  let worker: EventWorker;
  const handled: string[] = [];
  const ours = new Set<string>();
  const handlers = createEventHandlers().on('project.created', async ({ event, organization, db }) => {
    if (!ours.has(organization.id)) return;
    // The handler's client is scoped to the event's organization: it sees the project.
    const project = await db.project.findFirst({ where: { id: event.payload.id } });
    handled.push(`${organization.slug}:${project?.name}`);
  }, { name: 'test-projects' });

  let integrations: Receiver;

  beforeAll(async () => {
    integrations = await startReceiver();
    worker = await startEventWorker({
      adminUrl: h.adminUrl,
      runtime: h.db,
      handlers,
      config: { allowPrivateAddresses: true, retryBaseMs: 300, maxAttempts: 4, timeoutMs: 2000, datadogSite: integrations.url, securityAlertWebhookUrl: `${integrations.url}/platform-security` },
    });
  });
  afterAll(async () => {
    await worker.stop();
    await integrations.close();
  });

  it("posts chosen events to Slack (incoming-webhook format, the settings' channel) and to Datadog's Events API with the organization's key", async () => {
    const org = await h.createOrganization();
    await h.system.pool.query(
      `UPDATE organizations SET settings = '{"integrations": {"slack": {"enabled": true, "channel": "#ops"}, "datadog": {"enabled": true}}}' WHERE id = $1`,
      [org.id],
    );
    await h.system.pool.query(
      `INSERT INTO organization_secrets (organization_id, name, value, masked) VALUES ($1, 'integrations.slack.webhookUrl', $2, 'x'), ($1, 'integrations.datadog.apiKey', 'dd-key-0123456789', 'x')`,
      [org.id, `${integrations.url}/services/T000/B000/XXXX`],
    );
    const user = await h.createUser(org.id, 'MEMBER');
    const forUs = (r: { body: string }) => r.body.includes(user.id);
    const slack = await eventually(async () => integrations.requests.find((r) => r.path.startsWith('/services/') && forUs(r)), 20_000, 'the Slack message');
    expect(slack.method).toBe('POST');
    expect(slack.headers['content-type']).toBe('application/json');
    const message = JSON.parse(slack.body);
    expect(message).toEqual({
      channel: '#ops',
      text: `[${org.slug}] member.added user ${user.id} by the platform`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('*member.added*') } }],
    });
    const datadog = await eventually(async () => integrations.requests.find((r) => r.path === '/api/v1/events' && forUs(r)), 20_000, 'the Datadog event');
    expect(datadog.headers['dd-api-key']).toBe('dd-key-0123456789');
    expect(JSON.parse(datadog.body)).toEqual({
      title: 'tenantgate: member.added',
      text: `[${org.slug}] member.added user ${user.id} by the platform`,
      tags: [`organization:${org.slug}`, 'event_type:member.added', 'actor_type:system'],
      alert_type: 'info',
      source_type_name: 'tenantgate',
      aggregation_key: expect.stringMatching(/^[0-9a-f-]{36}$/),
      date_happened: expect.any(Number),
    });
    // Secrets never appear in what was sent but where they belong.
    expect(slack.body).not.toContain('dd-key');
  });

  it("sends a denial's alert to the organization's chosen channels only, and a high one to the platform's SECURITY_ALERT_WEBHOOK_URL", async () => {
    const acme = await h.createOrganization();
    const globex = await h.createOrganization();
    await h.system.pool.query(
      `UPDATE organizations SET settings = '{"integrations": {"slack": {"enabled": true, "events": ["security.access_denied"]}, "datadog": {"enabled": true, "events": ["member.added"]}}}' WHERE id = $1`,
      [acme.id],
    );
    await h.system.pool.query(
      `INSERT INTO organization_secrets (organization_id, name, value, masked) VALUES ($1, 'integrations.slack.webhookUrl', $2, 'x'), ($1, 'integrations.datadog.apiKey', 'dd-key-0123456789', 'x')`,
      [acme.id, `${integrations.url}/services/T1/B1/${acme.slug}`],
    );
    const joined = await h.createUser(acme.id, 'MEMBER');
    const { rows } = await h.system.pool.query<{ id: string }>(
      `INSERT INTO projects (organization_id, id, name, owner_id, updated_at) VALUES ($1, gen_random_uuid(), 'Theirs', $2, now()) RETURNING id`,
      [globex.id, globex.owner.id],
    );
    const denied = await h.execute(`query ($id: ID!) { project(id: $id) { id } }`, { token: acme.admin.token, variables: { id: encodeGlobalID('Project', rows[0].id) } });
    expect(denied).toEqual({ status: 200, data: { project: null } });
    await h.denials.settled();

    const slack = await eventually(async () => integrations.requests.find((r) => r.path === `/services/T1/B1/${acme.slug}`), 20_000, 'the Slack alert');
    expect(JSON.parse(slack.body).text).toBe(`[${acme.slug}] security.access_denied user ${acme.admin.id} by user ${acme.admin.id}`);
    const platform = await eventually(async () => integrations.requests.find((r) => r.path === '/platform-security' && r.body.includes(acme.id)), 20_000, 'the platform alert');
    expect(JSON.parse(platform.body)).toMatchObject({
      type: 'security.access_denied',
      data: { organization: { id: acme.id }, actor: { type: 'user', id: acme.admin.id }, payload: { reason: 'cross_organization', severity: 'high' } },
    });
    // Datadog was asked for member.added only; Slack for the denial only.
    await eventually(async () => integrations.requests.find((r) => r.path === '/api/v1/events' && r.body.includes(joined.id)), 20_000, 'member.added in Datadog');
    const acmes = integrations.requests.filter((r) => r.body.includes(acme.slug));
    // Datadog may also get the member.added of acme's first members: their events can reach the relay
    // after the settings above (the relay routes an event by the settings when it picks it up). Each is member.added.
    const toDatadog = acmes.filter((r) => r.path === '/api/v1/events').map((r) => JSON.parse(r.body).title);
    expect(new Set(toDatadog)).toEqual(new Set(['tenantgate: member.added']));
    expect(integrations.requests.filter((r) => r.path === '/api/v1/events' && r.body.includes(joined.id))).toHaveLength(1);
    expect(acmes.filter((r) => r.path.startsWith('/services/')).map((r) => JSON.parse(r.body).text.split(' ')[1])).toEqual(['security.access_denied']);
    // The target organization's own copy (an outsider tried) is not a second platform alert.
    expect(integrations.requests.filter((r) => r.path === '/platform-security' && r.body.includes(globex.id))).toEqual([]);
  });

  it('disables an endpoint that has failed for 3 days, and records why', async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.statusCode = 500;
      res.end();
    });
    try {
      const org = await h.createOrganization();
      await enableWebhooks(org);
      const endpoint = await addEndpoint(org, `${receiver.url}/hook`);
      await h.system.pool.query(`UPDATE webhook_endpoints SET failing_since = now() - interval '3 days 1 minute' WHERE id = $1`, [endpoint.id]);
      await h.execute(CREATE_PROJECT, { token: org.owner.token, variables: { input: { name: 'Failing' } } });
      const disabled = await eventually(async () => {
        const { rows } = await h.system.pool.query(`SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1`, [endpoint.id]);
        return rows[0].enabled === false && rows[0];
      }, 20_000, 'the endpoint to be disabled');
      expect(disabled.disabled_reason).toMatch(/^every delivery failed since /);
      const { rows } = await h.system.pool.query(`SELECT action, actor_type FROM audit_log WHERE organization_id = $1 AND action = 'webhook_endpoint.disabled'`, [org.id]);
      expect(rows).toEqual([{ action: 'webhook_endpoint.disabled', actor_type: 'system' }]);
    } finally {
      await receiver.close();
    }
  });

  it('retries with exponential backoff against a receiver that fails twice; the signature verifies with the standardwebhooks package', async () => {
    const receiver = await startReceiver((_r, index, res) => {
      res.statusCode = index < 2 ? 503 : 204;
      res.end();
    });
    try {
      const org = await h.createOrganization();
      ours.add(org.id);
      await enableWebhooks(org);
      const endpoint = await addEndpoint(org, `${receiver.url}/hook`);
      await h.execute(CREATE_PROJECT, { token: org.owner.token, variables: { input: { name: 'Retried' } } });
      const done = await eventually(async () => {
        const d = await delivery(org, endpoint.id);
        return d?.status === 'SUCCEEDED' && d;
      }, 30_000, 'the delivery to succeed');
      expect(done.attempts).toBe(3);
      expect(done.attempt_log.map((a) => a.statusCode)).toEqual([503, 503, 204]);
      expect(receiver.requests).toHaveLength(3);
      const [first, second, third] = receiver.requests;
      // base 300 ms, doubled: at least 300 ms, then at least 600 ms.
      expect(second.at - first.at).toBeGreaterThanOrEqual(300);
      expect(third.at - second.at).toBeGreaterThanOrEqual(600);
      // The same message id on every attempt: the receiver's idempotency key.
      expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([done.event_id]));
      const verified = new Webhook(endpoint.secret).verify(third.body, {
        'webhook-id': String(third.headers['webhook-id']),
        'webhook-timestamp': String(third.headers['webhook-timestamp']),
        'webhook-signature': String(third.headers['webhook-signature']),
      }) as { type: string; data: { payload: { name: string }; organization: { slug: string } } };
      expect(verified).toMatchObject({ type: 'project.created', data: { payload: { name: 'Retried' }, organization: { slug: org.slug } } });
      // A wrong secret does not verify (the check above can fail).
      expect(() => new Webhook(newWebhookSecret()).verify(third.body, { ...(third.headers as Record<string, string>) })).toThrow();
      await eventually(async () => handled.includes(`${org.slug}:Retried`), 10_000, 'the handler');
    } finally {
      await receiver.close();
    }
  });

  it('dead-letters a delivery after the last attempt', async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.statusCode = 500;
      res.end();
    });
    try {
      const org = await h.createOrganization();
      await enableWebhooks(org);
      const endpoint = await addEndpoint(org, `${receiver.url}/hook`);
      await h.execute(CREATE_PROJECT, { token: org.owner.token, variables: { input: { name: 'Dead' } } });
      const dead = await eventually(async () => {
        const d = await delivery(org, endpoint.id);
        return d?.status === 'DEAD' && d;
      }, 30_000, 'the delivery to be dead-lettered');
      expect(dead.attempts).toBe(4);
      expect(receiver.requests).toHaveLength(4);
    } finally {
      await receiver.close();
    }
  });

  it('refuses private addresses unless allowed (the SSRF guard), and does not follow redirects', async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.statusCode = 302;
      res.setHeader('location', 'http://169.254.169.254/latest/meta-data');
      res.end();
    });
    try {
      for (const url of [receiver.url, 'http://10.0.0.1/x', 'http://[::1]:1/x', 'http://169.254.169.254/latest', 'http://localhost:1/x', 'http://[::ffff:127.0.0.1]/x']) {
        const outcome = await post(url, { body: '{}', headers: {}, allowPrivateAddresses: false, timeoutMs: 2000 });
        expect(outcome).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/not a public address/) });
      }
      expect(receiver.requests).toHaveLength(0);
      const redirected = await post(receiver.url, { body: '{}', headers: {}, allowPrivateAddresses: true, timeoutMs: 2000 });
      expect(redirected).toMatchObject({ ok: false, statusCode: 302 });
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('a worker that crashes between the delivery and its acknowledgement', () => {
  let receiver: Receiver;
  afterAll(() => receiver?.close());

  it('delivers again with the same idempotency key: the receiver applies the effect once', async () => {
    const org = await h.createOrganization();
    await enableWebhooks(org);
    const applied = new Set<string>();
    let effects = 0;
    let child: ReturnType<typeof spawn> | undefined;
    receiver = await startReceiver((request, index, res) => {
      // The receiver's side of at-least-once: apply each webhook-id once.
      const id = String(request.headers['webhook-id']);
      if (!applied.has(id)) {
        applied.add(id);
        effects += 1;
      }
      if (index === 0) {
        // The effect is done; the worker dies before it can record the delivery or complete the job.
        child?.kill('SIGKILL');
        setTimeout(() => res.end('ok'), 100);
      } else res.end('ok');
    });
    const endpoint = await addEndpoint(org, `${receiver.url}/hook`);
    const root = path.join(__dirname, '..');
    // One process (node with tsx's loader), so that SIGKILL kills the worker itself.
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'worker.ts')], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: h.runtimeUrl,
        DATABASE_ADMIN_URL: h.adminUrl,
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'on',
        EVENTS_RETRY_BASE_MS: '200',
        JWT_SECRET: 'unused-by-the-worker-but-required-secret',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    await h.execute(CREATE_PROJECT, { token: org.owner.token, variables: { input: { name: 'Crash' } } });
    await exited;
    expect(receiver.requests).toHaveLength(1);
    // The job stays locked by the dead worker; graphile-worker frees such locks after 4 hours, an operator at once:
    const utils = await makeWorkerUtils({ connectionString: h.adminUrl });
    try {
      const locked = await h.system.pool.query<{ locked_by: string }>(
        `SELECT DISTINCT locked_by FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL AND payload::text LIKE '%' || $1 || '%'`,
        [(await delivery(org, endpoint.id))!.id],
      );
      expect(locked.rows).toHaveLength(1);
      await utils.forceUnlockWorkers(locked.rows.map((r) => r.locked_by));
    } finally {
      await utils.release();
    }
    expect((await delivery(org, endpoint.id))!.status).toBe('PENDING');
    const worker = await startEventWorker({ adminUrl: h.adminUrl, runtime: h.db, config: { allowPrivateAddresses: true, retryBaseMs: 200 } });
    try {
      const done = await eventually(async () => {
        const d = await delivery(org, endpoint.id);
        return d?.status === 'SUCCEEDED' && d;
      }, 30_000, 'the redelivery');
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests[0].headers['webhook-id']).toBe(receiver.requests[1].headers['webhook-id']);
      expect(effects).toBe(1);
      expect(done.attempts).toBe(1);
    } finally {
      await worker.stop();
    }
  });
});
