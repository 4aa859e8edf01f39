import { Logger, run, type Runner, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { Database } from '../db/client';
import { withSearchPath } from '../db/schemas';
import { createTenantClient } from '../db/tenant';
import { readSettings } from '../settings';
import { NOTABLE_EVENTS, type DomainEvent, type ActorType } from './catalog';
import { datadogBody, datadogEventsUrl, slackBody, webhookBody } from './formats';
import type { EventHandlers } from './handlers';
import { post, type PostOutcome } from './http-post';
import { signatureHeaders } from './signing';
import { defaultEventWorkerConfig, type EventWorkerConfig } from './config';
import { recordEndedSupportSessions } from '../audit/support-sessions';

export interface EventWorkerOptions {
  /** The owner role's URL: the worker reads every organization's outbox. */
  adminUrl: string;
  /** The runtime database: handlers get tenant clients on it. */
  runtime: Database;
  handlers?: EventHandlers;
  config?: Partial<EventWorkerConfig>;
  now?: () => number;
  /** Log lines; silent by default. */
  onLog?: (line: string) => void;
}

export interface EventWorker {
  /** Runs the relay now (tests; the worker also runs it on every notification and each minute). */
  relay(): Promise<void>;
  stop(): Promise<void>;
  readonly runner: Runner;
}

const RELAY = 'events:relay';
const DELIVER = 'events:deliver';
const PRUNE = 'audit:prune';
const SUPPORT_ENDED = 'audit:support-ended';
/** Events moved from the outbox to the queue per transaction. */
const RELAY_BATCH = 1000;
/** Deliveries per job queued by the relay: attempted in parallel, recorded in one transaction. */
const DELIVERY_BATCH = 25;
/** Attempts kept in a delivery's log. */
const ATTEMPT_LOG = 20;
/** graphile-worker's own retries: for a crash or an unexpected error, not for a failed HTTP call (those are ours). */
const JOB_MAX_ATTEMPTS = 5;

export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(baseMs * 2 ** (attempt - 1), 6 * 3600 * 1000);
  return Math.round(delay * (1 + 0.2 * random()));
}

interface DeliveryRow {
  organization_id: string;
  id: string;
  destination: 'webhook' | 'slack' | 'datadog' | 'handler' | 'security';
  target: string;
  status: string;
  attempts: number;
  event_id: string;
  type: string;
  subject_type: string | null;
  subject_id: string | null;
  actor_type: ActorType;
  actor_id: string | null;
  payload: Record<string, unknown>;
  occurred_at: Date;
  slug: string;
  name: string;
  settings: unknown;
  url: string | null;
  secret: string | null;
  endpoint_enabled: boolean | null;
  failing_since: Date | null;
}

/**
 * The relay: moves undispatched events from the outbox to the job queue, one
 * `events:deliver` job per destination, and marks them dispatched, in one
 * transaction: an event is fanned out exactly once, and not lost if the worker
 * stops half-way (its rows stay locked only for that transaction).
 */
async function relayOnce(client: pg.ClientBase, handlers: EventHandlers | undefined, config: EventWorkerConfig): Promise<number> {
  const list = handlers?.list() ?? [];
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ events: string; jobs: string }>(
      `WITH batch AS (
         SELECT organization_id, id FROM events WHERE dispatched_at IS NULL ORDER BY occurred_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ), marked AS (
         UPDATE events e SET dispatched_at = now() FROM batch b
          WHERE e.organization_id = b.organization_id AND e.id = b.id
         RETURNING e.organization_id, e.id, e.type, e.payload
       ), targets AS (
         SELECT m.organization_id, m.id AS event_id, m.type AS event_type, 'webhook' AS destination, w.id::text AS target, w.id AS endpoint_id
           FROM marked m JOIN organizations o ON o.id = m.organization_id
           JOIN webhook_endpoints w ON w.organization_id = m.organization_id AND w.enabled
            AND EXISTS (SELECT 1 FROM unnest(w.event_types) p
                         WHERE p = m.type OR p = '*' OR (p LIKE '%.*' AND m.type LIKE left(p, -1) || '%'))
          WHERE coalesce(o.settings #>> '{features,webhooks}', 'false') = 'true'
         UNION ALL
         SELECT m.organization_id, m.id, m.type, 'slack', '', NULL FROM marked m JOIN organizations o ON o.id = m.organization_id
          WHERE coalesce(o.settings #>> '{integrations,slack,enabled}', 'false') = 'true'
            AND coalesce(o.settings #> '{integrations,slack,events}', $2::jsonb) ? m.type
         UNION ALL
         SELECT m.organization_id, m.id, m.type, 'datadog', '', NULL FROM marked m JOIN organizations o ON o.id = m.organization_id
          WHERE coalesce(o.settings #>> '{integrations,datadog,enabled}', 'false') = 'true'
            AND coalesce(o.settings #> '{integrations,datadog,events}', $2::jsonb) ? m.type
         UNION ALL
         -- The platform's alert, once per attempt: the caller's organization's event; the target's copy ('outsider')
         -- only when the caller has no organization to record it in (a token for an organization it is not a member of).
         SELECT m.organization_id, m.id, m.type, 'security', '', NULL FROM marked m
          WHERE $5 AND m.type = 'security.access_denied' AND m.payload->>'severity' = 'high'
            AND (NOT m.payload ? 'outsider' OR m.payload->>'reason' = 'not_a_member')
         UNION ALL
         SELECT m.organization_id, m.id, m.type, 'handler', h.name, NULL
           FROM marked m JOIN unnest($3::text[], $4::text[]) AS h(type, name) ON h.type = m.type OR h.type = '*'
       ), inserted AS (
         INSERT INTO deliveries (organization_id, event_id, event_type, destination, target, endpoint_id)
         SELECT organization_id, event_id, event_type, destination, target, endpoint_id FROM targets
         ON CONFLICT DO NOTHING
         RETURNING organization_id, id
       )
       SELECT (SELECT count(*) FROM marked) AS events,
              (SELECT count(*) FROM graphile_worker.add_jobs(array(
                 SELECT ROW($6, json_build_object('deliveries', json_agg(json_build_object('o', organization_id, 'd', id))), NULL, NULL, $7, NULL, NULL, NULL)::graphile_worker.job_spec
                   FROM (SELECT organization_id, id, (row_number() OVER () - 1) / $8 AS chunk FROM inserted) numbered
                  GROUP BY chunk))) AS jobs`,
      [RELAY_BATCH, JSON.stringify(NOTABLE_EVENTS), list.map((h) => h.type), list.map((h) => h.name), Boolean(config.securityAlertWebhookUrl), DELIVER, JOB_MAX_ATTEMPTS, DELIVERY_BATCH],
    );
    // Redeliveries asked for through redeliverWebhook.
    await client.query(
      `WITH requeued AS (
         UPDATE deliveries SET requeued_at = NULL, status = 'PENDING', attempts = 0, next_attempt_at = NULL, updated_at = now()
          WHERE requeued_at IS NOT NULL RETURNING organization_id, id
       )
       SELECT count(*) FROM graphile_worker.add_jobs(array(
         SELECT ROW($1, json_build_object('organizationId', organization_id, 'deliveryId', id), NULL, NULL, $2, id::text, NULL, NULL)::graphile_worker.job_spec
           FROM requeued))`,
      [DELIVER, JOB_MAX_ATTEMPTS],
    );
    await client.query('COMMIT');
    return Number(rows[0].events);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function toEvent(row: DeliveryRow): DomainEvent {
  return {
    id: row.event_id,
    type: row.type,
    organizationId: row.organization_id,
    subject: { type: row.subject_type, id: row.subject_id },
    actor: { type: row.actor_type, id: row.actor_id },
    payload: row.payload,
    occurredAt: row.occurred_at.toISOString(),
  } as DomainEvent;
}

export async function startEventWorker(options: EventWorkerOptions): Promise<EventWorker> {
  const config = { ...defaultEventWorkerConfig, ...options.config };
  const now = options.now ?? Date.now;
  const log = options.onLog ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: withSearchPath(options.adminUrl), max: config.concurrency + 3, application_name: 'tenantgate-worker' });
  // An idle or checked-out connection that errors (the server restarted) must not crash the worker.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));

  /** One attempt at one destination; a thrown error is a failed attempt too. */
  async function attempt(row: DeliveryRow, secrets: Map<string, string>): Promise<PostOutcome> {
    const event = toEvent(row);
    const organization = { id: row.organization_id, slug: row.slug, name: row.name };
    const send = (url: string, body: string, headers: Record<string, string>) =>
      post(url, { body, headers: { 'content-type': 'application/json', 'user-agent': 'tenantgate-webhooks/1', ...headers }, timeoutMs: config.timeoutMs, allowPrivateAddresses: config.allowPrivateAddresses });
    switch (row.destination) {
      case 'webhook': {
        if (!row.url || !row.secret) return { ok: false, statusCode: null, latencyMs: 0, error: 'endpoint deleted' };
        const body = webhookBody(event, organization);
        return send(row.url, body, signatureHeaders(row.secret, event.id, new Date(now()), body));
      }
      case 'slack': {
        const url = secrets.get('integrations.slack.webhookUrl');
        if (!url) return { ok: false, statusCode: null, latencyMs: 0, error: 'no Slack webhook URL set' };
        return send(url, slackBody(event, organization, readSettings(row.settings).integrations.slack.channel), {});
      }
      case 'datadog': {
        const key = secrets.get('integrations.datadog.apiKey');
        if (!key) return { ok: false, statusCode: null, latencyMs: 0, error: 'no Datadog API key set' };
        return send(datadogEventsUrl(config.datadogSite), datadogBody(event, organization), { 'dd-api-key': key });
      }
      case 'security': {
        if (!config.securityAlertWebhookUrl) return { ok: true, statusCode: null, latencyMs: 0, error: null };
        return send(config.securityAlertWebhookUrl, webhookBody(event, organization), {});
      }
      case 'handler': {
        const handler = options.handlers?.get(row.target);
        if (!handler) return { ok: false, statusCode: null, latencyMs: 0, error: `no handler ${row.target} in this worker` };
        const started = performance.now();
        try {
          const db = createTenantClient(options.runtime.prisma, { organizationId: row.organization_id });
          await handler.run({ event, organization, db });
          return { ok: true, statusCode: null, latencyMs: Math.round(performance.now() - started), error: null };
        } catch (error) {
          return { ok: false, statusCode: null, latencyMs: Math.round(performance.now() - started), error: String((error as Error)?.message ?? error).slice(0, 300) };
        }
      }
    }
  }

  /**
   * Delivers a batch (the relay's jobs: up to DELIVERY_BATCH deliveries) or one
   * delivery (a retry, a redelivery). PERF: one read, the attempts in parallel,
   * and one transaction recording every outcome and scheduling the retries,
   * whatever the batch's size. A job run again after a crash skips what it had
   * recorded and sends the rest again, with the same webhook-id.
   */
  const deliver: Task = async (payload, helpers) => {
    const job = payload as { organizationId?: string; deliveryId?: string; deliveries?: { o: string; d: string }[] };
    const keys = job.deliveries ?? [{ o: job.organizationId!, d: job.deliveryId! }];
    const { rows } = await pool.query<DeliveryRow>(
      `SELECT d.organization_id, d.id, d.destination, d.target, d.status, d.attempts,
              e.id AS event_id, e.type, e.subject_type, e.subject_id, e.actor_type, e.actor_id, e.payload, e.occurred_at,
              o.slug, o.name, o.settings, w.url, w.secret, w.enabled AS endpoint_enabled, w.failing_since
         FROM unnest($1::uuid[], $2::uuid[]) AS k(organization_id, id)
         JOIN deliveries d ON d.organization_id = k.organization_id AND d.id = k.id
         JOIN events e ON e.organization_id = d.organization_id AND e.id = d.event_id
         JOIN organizations o ON o.id = d.organization_id
         LEFT JOIN webhook_endpoints w ON w.organization_id = d.organization_id AND w.id = d.endpoint_id
        WHERE d.status IN ('PENDING', 'RETRYING')`,
      [keys.map((k) => k.o), keys.map((k) => k.d)],
    );
    // Done already (a job run again after a crash, a redelivery raced): nothing to do.
    if (rows.length === 0) return;
    const secrets = new Map<string, Map<string, string>>();
    const integrationOrgs = [...new Set(rows.filter((r) => r.destination === 'slack' || r.destination === 'datadog').map((r) => r.organization_id))];
    if (integrationOrgs.length > 0) {
      const found = await pool.query<{ organization_id: string; name: string; value: string }>(
        `SELECT organization_id, name, value FROM organization_secrets WHERE organization_id = ANY ($1::uuid[]) AND name = ANY ($2)`,
        [integrationOrgs, ['integrations.slack.webhookUrl', 'integrations.datadog.apiKey']],
      );
      for (const s of found.rows) {
        if (!secrets.has(s.organization_id)) secrets.set(s.organization_id, new Map());
        secrets.get(s.organization_id)!.set(s.name, s.value);
      }
    }
    const results = await Promise.all(
      rows.map(async (row) => {
        const outcome: PostOutcome = row.destination === 'webhook' && row.endpoint_enabled === false
          ? { ok: false, statusCode: null, latencyMs: 0, error: 'endpoint disabled' }
          : await attempt(row, secrets.get(row.organization_id) ?? new Map());
        const attempts = row.attempts + 1;
        const dead = !outcome.ok && (attempts >= config.maxAttempts || outcome.error === 'endpoint disabled' || outcome.error === 'endpoint deleted');
        const retryAt = !outcome.ok && !dead ? new Date(now() + backoffMs(attempts, config.retryBaseMs)) : null;
        return { row, outcome, attempts, dead, retryAt };
      }),
    );
    const at = new Date(now()).toISOString();
    await helpers.withPgClient(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query(
          `UPDATE deliveries d SET attempts = r.attempts, status = r.status, next_attempt_at = r.retry_at, last_status_code = r.code,
                  last_latency_ms = r.latency, last_error = r.error,
                  attempt_log = (SELECT coalesce(jsonb_agg(x ORDER BY n), '[]') FROM (
                    SELECT x, n FROM jsonb_array_elements(d.attempt_log || jsonb_build_array(r.entry)) WITH ORDINALITY AS t(x, n)
                    ORDER BY n DESC LIMIT ${ATTEMPT_LOG}) kept),
                  updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS r(o uuid, d uuid, attempts int, status text, retry_at timestamptz, code int, latency int, error text, entry jsonb)
            WHERE d.organization_id = r.o AND d.id = r.d`,
          [JSON.stringify(results.map(({ row, outcome, attempts, dead, retryAt }) => ({
            o: row.organization_id, d: row.id, attempts, status: outcome.ok ? 'SUCCEEDED' : dead ? 'DEAD' : 'RETRYING', retry_at: retryAt,
            code: outcome.statusCode, latency: outcome.latencyMs, error: outcome.error,
            entry: { at, statusCode: outcome.statusCode, latencyMs: outcome.latencyMs, error: outcome.error },
          })))],
        );
        const retries = results.filter((r) => r.retryAt);
        if (retries.length > 0) {
          await client.query(
            `SELECT count(*) FROM graphile_worker.add_jobs(array(
               SELECT ROW($1, json_build_object('organizationId', r.o, 'deliveryId', r.d), NULL, r.run_at, $2, r.d::text, NULL, NULL)::graphile_worker.job_spec
                 FROM jsonb_to_recordset($3::jsonb) AS r(o uuid, d uuid, run_at timestamptz)))`,
            [DELIVER, JOB_MAX_ATTEMPTS, JSON.stringify(retries.map((r) => ({ o: r.row.organization_id, d: r.row.id, run_at: r.retryAt })))],
          );
        }
        for (const { row, outcome } of results) {
          if (row.destination !== 'webhook' || !row.endpoint_enabled) continue;
          if (outcome.ok) {
            if (row.failing_since) await client.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE organization_id = $1 AND id = $2::uuid`, [row.organization_id, row.target]);
          } else if (!row.failing_since) {
            await client.query(`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $3) WHERE organization_id = $1 AND id = $2::uuid`, [row.organization_id, row.target, new Date(now())]);
          } else if (now() - row.failing_since.getTime() >= config.disableAfterMs) {
            // The trigger records webhook_endpoint.disabled: the audit log, Slack, Datadog and the handlers tell the owners.
            await client.query(
              `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = now() WHERE organization_id = $1 AND id = $2::uuid AND enabled`,
              [row.organization_id, row.target, `every delivery failed since ${row.failing_since.toISOString()}`],
            );
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    for (const { row, outcome, attempts } of results) log(`${row.destination} ${row.id} attempt ${attempts}: ${outcome.ok ? 'ok' : outcome.error}`);
  };

  const relay: Task = async () => {
    const client = await pool.connect();
    try {
      // A burst larger than one batch: keep going while batches come back full.
      while ((await relayOnce(client, options.handlers, config)) === RELAY_BATCH);
    } finally {
      client.release();
    }
  };

  const prune: Task = async () => {
    // Retention per plan (audit_retention): the owner role is the only one that may delete.
    await pool.query(
      `DELETE FROM audit_log a USING subscriptions s, audit_retention r
        WHERE s.organization_id = a.organization_id AND r.plan = s.plan AND a.created_at < now() - make_interval(days => r.days)`,
    );
    await pool.query(`DELETE FROM events WHERE dispatched_at < now() - interval '30 days'`);
    // Alert windows long over (a window is 10 minutes; its count goes with the actor's next alert for a day).
    await pool.query(`DELETE FROM security_alert_windows WHERE window_started_at < now() - interval '1 day'`);
  };

  const supportEnded: Task = async () => {
    const client = await pool.connect();
    try {
      await recordEndedSupportSessions(client);
    } finally {
      client.release();
    }
  };

  const taskList: TaskList = { [RELAY]: relay, [DELIVER]: deliver, [PRUNE]: prune, [SUPPORT_ENDED]: supportEnded };
  const runner = await run({
    pgPool: pool,
    taskList,
    concurrency: config.concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    // PERF: jobs fetched and completed in batches, not one round trip each (a burst of deliveries).
    preset: { worker: { localQueue: { size: Math.max(50, config.concurrency * 5) }, completeJobBatchDelay: 5 } },
    // graphile-worker's own lines (errors of its machinery) go where ours go.
    logger: new Logger(() => (level, message) => {
      if (level === 'error' || level === 'warning') log(`graphile-worker ${level}: ${message}`);
    }),
    crontab: [`* * * * * ${RELAY} ?jobKey=${RELAY}&jobKeyMode=preserve_run_at`, `* * * * * ${SUPPORT_ENDED} ?jobKey=${SUPPORT_ENDED}`, `17 3 * * * ${PRUNE}`].join('\n'),
  });

  const wake = () => runner.addJob(RELAY, {}, { jobKey: RELAY, jobKeyMode: 'preserve_run_at' }).then(() => undefined, () => undefined);
  // Triggers NOTIFY tenantgate_events on commit: the relay runs within moments of a change.
  const listener = new pg.Client({ connectionString: withSearchPath(options.adminUrl), application_name: 'tenantgate-worker-listen' });
  listener.on('error', () => undefined);
  await listener.connect();
  let pending = false;
  listener.on('notification', () => {
    if (pending) return;
    pending = true;
    // PERF: a burst of commits makes one relay job, not one per commit.
    setTimeout(() => {
      pending = false;
      void wake();
    }, 20);
  });
  await listener.query('LISTEN tenantgate_events');
  void wake();

  return {
    runner,
    relay: async () => {
      const client = await pool.connect();
      try {
        while ((await relayOnce(client, options.handlers, config)) === RELAY_BATCH);
      } finally {
        client.release();
      }
    },
    async stop() {
      await listener.end().catch(() => undefined);
      await runner.stop();
      await pool.end().catch(() => undefined);
    },
  };
}
