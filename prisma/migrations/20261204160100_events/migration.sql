-- Domain events (a transactional outbox), the organization's audit log, webhook
-- endpoints and the deliveries of events to webhooks, integrations and
-- in-process handlers (docs/adr/0060-events-outbox.md).
--
-- Events are written by AFTER triggers on the tables whose changes matter, in
-- the transaction of the change: a mutation that rolls back leaves no event.
-- The actor comes from the transaction's settings: app.current_user_id() and
-- app.request_meta, a JSON document the gateway sets with the scope
-- ({"ip", "userAgent", "requestId", "support"}; src/db/tenant.ts).

-- The outbox. Append-only for the runtime role: its triggers insert, the worker
-- (the owner role) reads and marks rows dispatched.
CREATE TABLE "events" (
  "organization_id" UUID NOT NULL,
  -- The idempotency key: the webhook-id of every delivery of this event.
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "type" TEXT NOT NULL,
  "subject_type" TEXT,
  "subject_id" TEXT,
  -- user | operator | support | system
  "actor_type" TEXT NOT NULL,
  "actor_id" UUID,
  "payload" JSONB NOT NULL DEFAULT '{}',
  "ip" TEXT,
  "user_agent" TEXT,
  "request_id" TEXT,
  "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  "dispatched_at" TIMESTAMPTZ(3),
  CONSTRAINT "events_pkey" PRIMARY KEY ("organization_id", "id"),
  CONSTRAINT "events_type_format" CHECK ("type" ~ '^[a-z_]+(\.[a-z_]+)+$' AND length("type") <= 100),
  CONSTRAINT "events_actor_type" CHECK ("actor_type" IN ('user', 'operator', 'support', 'system')),
  CONSTRAINT "events_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
);
CREATE INDEX "events_organization_id_occurred_at_idx" ON "events"("organization_id", "occurred_at" DESC);
-- PERF: the relay takes the oldest undispatched events of every organization;
-- the partial index holds only those, so it stays small whatever the history.
CREATE INDEX "events_undispatched_idx" ON "events"("occurred_at") WHERE "dispatched_at" IS NULL;

-- The organization's audit log: administrative actions, everything done in a
-- support session, denied access. Append-only for the runtime role (grants
-- below and the restrictive policies); retention is pruned by the owner role.
CREATE TABLE "audit_log" (
  "organization_id" UUID NOT NULL,
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  "actor_type" TEXT NOT NULL,
  "actor_id" UUID,
  "action" TEXT NOT NULL,
  "target_type" TEXT,
  "target_id" TEXT,
  "ip" TEXT,
  "user_agent" TEXT,
  "request_id" TEXT,
  "details" JSONB NOT NULL DEFAULT '{}',
  CONSTRAINT "audit_log_pkey" PRIMARY KEY ("organization_id", "id"),
  CONSTRAINT "audit_log_actor_type" CHECK ("actor_type" IN ('user', 'operator', 'support', 'system', 'outsider')),
  CONSTRAINT "audit_log_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
);
CREATE INDEX "audit_log_organization_id_created_at_id_idx" ON "audit_log"("organization_id", "created_at" DESC, "id" DESC);
CREATE INDEX "audit_log_organization_id_action_created_at_idx" ON "audit_log"("organization_id", "action", "created_at" DESC);

-- How long each plan keeps its audit log: data, not code.
CREATE TABLE "audit_retention" (
  "plan" "Plan" NOT NULL PRIMARY KEY,
  "days" INTEGER NOT NULL CHECK ("days" > 0)
);
INSERT INTO "audit_retention" ("plan", "days") VALUES ('FREE', 30), ('PRO', 365), ('ENTERPRISE', 2555);
GRANT SELECT ON "audit_retention" TO tenantgate_runtime;

-- Outbound webhook endpoints. SECURITY: the signing secret is write-only for
-- the runtime role (no SELECT on the column); only the worker reads it.
CREATE TABLE "webhook_endpoints" (
  "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "url" TEXT NOT NULL,
  "description" TEXT NOT NULL DEFAULT '',
  "event_types" TEXT[] NOT NULL,
  "secret" TEXT NOT NULL,
  "enabled" BOOLEAN NOT NULL DEFAULT true,
  "disabled_reason" TEXT,
  -- Since when every delivery has failed; null once one succeeds.
  "failing_since" TIMESTAMPTZ(3),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("organization_id", "id"),
  CONSTRAINT "webhook_endpoints_url_length" CHECK (length("url") <= 2048),
  CONSTRAINT "webhook_endpoints_description_length" CHECK (length("description") <= 500),
  CONSTRAINT "webhook_endpoints_event_types_count" CHECK (cardinality("event_types") BETWEEN 1 AND 50),
  CONSTRAINT "webhook_endpoints_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
);

-- One row per event and destination: a webhook endpoint, the Slack or Datadog
-- integration, an in-process handler, the platform's security alert webhook.
CREATE TABLE "deliveries" (
  "organization_id" UUID NOT NULL,
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "event_id" UUID NOT NULL,
  -- The event's type, copied: the runtime role reads deliveries, not the outbox.
  "event_type" TEXT NOT NULL,
  -- webhook | slack | datadog | handler | security
  "destination" TEXT NOT NULL,
  -- The endpoint's id for a webhook, the handler's name for a handler, '' otherwise.
  "target" TEXT NOT NULL DEFAULT '',
  "endpoint_id" UUID,
  -- PENDING | RETRYING | SUCCEEDED | DEAD
  "status" TEXT NOT NULL DEFAULT 'PENDING',
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "next_attempt_at" TIMESTAMPTZ(3),
  "last_status_code" INTEGER,
  "last_latency_ms" INTEGER,
  "last_error" TEXT,
  -- The latest attempts, newest last: [{"at", "statusCode", "latencyMs", "error"}].
  "attempt_log" JSONB NOT NULL DEFAULT '[]',
  -- Set by redeliverWebhook: the relay queues the delivery again.
  "requeued_at" TIMESTAMPTZ(3),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "deliveries_pkey" PRIMARY KEY ("organization_id", "id"),
  CONSTRAINT "deliveries_destination" CHECK ("destination" IN ('webhook', 'slack', 'datadog', 'handler', 'security')),
  CONSTRAINT "deliveries_status" CHECK ("status" IN ('PENDING', 'RETRYING', 'SUCCEEDED', 'DEAD')),
  CONSTRAINT "deliveries_event_fkey" FOREIGN KEY ("organization_id", "event_id") REFERENCES "events"("organization_id", "id") ON DELETE CASCADE,
  CONSTRAINT "deliveries_endpoint_fkey" FOREIGN KEY ("organization_id", "endpoint_id") REFERENCES "webhook_endpoints"("organization_id", "id") ON DELETE CASCADE
);
-- The relay fans an event out at most once per destination, even if it runs twice.
CREATE UNIQUE INDEX "deliveries_organization_id_event_id_destination_target_key" ON "deliveries"("organization_id", "event_id", "destination", "target");
CREATE INDEX "deliveries_organization_id_endpoint_id_created_at_idx" ON "deliveries"("organization_id", "endpoint_id", "created_at" DESC, "id" DESC);
-- PERF: redeliveries waiting for the relay; usually empty.
CREATE INDEX "deliveries_requeued_idx" ON "deliveries"("requeued_at") WHERE "requeued_at" IS NOT NULL;

-- Cross-organization attempts and other platform-level security findings. No
-- grant: only the owner role (the worker, operators' tools) reads or writes it.
CREATE TABLE "platform_security_log" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  "severity" TEXT NOT NULL CHECK ("severity" IN ('low', 'medium', 'high')),
  "reason" TEXT NOT NULL,
  "actor_user_id" UUID,
  "actor_organization_id" UUID,
  "target_organization_id" UUID,
  "details" JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX "platform_security_log_created_at_idx" ON "platform_security_log"("created_at" DESC);

-- Row-level security -----------------------------------------------------------

ALTER TABLE "events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "events" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "events"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "audit_log" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "audit_log"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
-- Only the organization's owners and admins read it.
CREATE POLICY audit_log_readers ON "audit_log" AS RESTRICTIVE FOR SELECT
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));
-- SECURITY: append-only, by policy as well as by grant: should a grant ever be
-- widened, no row may still be changed or removed.
CREATE POLICY audit_log_no_update ON "audit_log" AS RESTRICTIVE FOR UPDATE USING (false) WITH CHECK (false);
CREATE POLICY audit_log_no_delete ON "audit_log" AS RESTRICTIVE FOR DELETE USING (false);

ALTER TABLE "webhook_endpoints" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "webhook_endpoints" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "webhook_endpoints"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "deliveries" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "deliveries" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "deliveries"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "platform_security_log" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "platform_security_log" FORCE ROW LEVEL SECURITY;

GRANT INSERT ON "events" TO tenantgate_runtime;
GRANT SELECT, INSERT ON "audit_log" TO tenantgate_runtime;
GRANT SELECT ("organization_id", "id", "url", "description", "event_types", "enabled", "disabled_reason", "failing_since", "created_at", "updated_at")
  ON "webhook_endpoints" TO tenantgate_runtime;
GRANT INSERT ON "webhook_endpoints" TO tenantgate_runtime;
GRANT UPDATE ("url", "description", "event_types", "secret", "enabled", "disabled_reason", "failing_since", "updated_at") ON "webhook_endpoints" TO tenantgate_runtime;
GRANT DELETE ON "webhook_endpoints" TO tenantgate_runtime;
GRANT SELECT ON "deliveries" TO tenantgate_runtime;
GRANT UPDATE ("requeued_at", "updated_at") ON "deliveries" TO tenantgate_runtime;

-- Recording events ----------------------------------------------------------------

-- Records one event, and an audit entry when `p_audit` or when the actor is in
-- a support session (everything done in one is audited). Runs as the caller:
-- under the runtime role, the policies above hold it to its organization.
CREATE FUNCTION app.record_event(p_organization_id uuid, p_type text, p_subject_type text, p_subject_id text, p_payload jsonb, p_audit boolean)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public
AS $$
DECLARE
  meta jsonb := coalesce(nullif(current_setting('app.request_meta', true), ''), '{}')::jsonb;
  actor uuid := app.current_user_id();
  kind text := CASE
    WHEN actor IS NULL THEN 'system'
    WHEN meta->>'support' = 'true' THEN 'support'
    WHEN meta->>'operator' = 'true' THEN 'operator'
    ELSE 'user' END;
BEGIN
  INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload, ip, user_agent, request_id)
  VALUES (p_organization_id, p_type, p_subject_type, p_subject_id, kind, actor, coalesce(p_payload, '{}'),
          meta->>'ip', meta->>'userAgent', meta->>'requestId');
  IF p_audit OR kind = 'support' THEN
    INSERT INTO audit_log (organization_id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, request_id, details)
    VALUES (p_organization_id, kind, actor, p_type, p_subject_type, p_subject_id,
            meta->>'ip', meta->>'userAgent', meta->>'requestId', coalesce(p_payload, '{}'));
  END IF;
  -- Wakes the relay; PostgreSQL folds identical notifications of one transaction into one.
  PERFORM pg_notify('tenantgate_events', '');
END
$$;
REVOKE ALL ON FUNCTION app.record_event(uuid, text, text, text, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.record_event(uuid, text, text, text, jsonb, boolean) TO tenantgate_runtime;

-- The columns of a row that go into an event: all but the organization's id, the
-- timestamps and the columns the table's trigger names as private.
CREATE FUNCTION app.event_row(p_row jsonb, p_private text[]) RETURNS jsonb
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT p_row - 'organization_id' - 'created_at' - 'updated_at' - coalesce(p_private, '{}') $$;
GRANT EXECUTE ON FUNCTION app.event_row(jsonb, text[]) TO tenantgate_runtime;

-- The generic trigger: `<prefix>.created|updated|deleted` with the row's `id`
-- as subject. TG_ARGV: prefix, 'audit' or 'no-audit', then private columns.
-- An update that changes only updated_at emits nothing.
CREATE FUNCTION app.emit_row_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  prefix text := TG_ARGV[0];
  audited boolean := TG_ARGV[1] = 'audit';
  private text[] := TG_ARGV[2:];
  old_row jsonb;
  new_row jsonb;
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    new_row := app.event_row(to_jsonb(NEW), private);
    PERFORM app.record_event(NEW.organization_id, prefix || '.created', prefix, new_row->>'id', new_row, audited);
  ELSIF TG_OP = 'DELETE' THEN
    old_row := app.event_row(to_jsonb(OLD), private);
    PERFORM app.record_event(OLD.organization_id, prefix || '.deleted', prefix, old_row->>'id', jsonb_build_object('id', old_row->'id'), audited);
  ELSE
    old_row := app.event_row(to_jsonb(OLD), private);
    new_row := app.event_row(to_jsonb(NEW), private);
    SELECT coalesce(array_agg(key ORDER BY key), '{}') INTO changed
      FROM jsonb_each(new_row) n WHERE n.value IS DISTINCT FROM old_row->n.key;
    IF cardinality(changed) > 0 THEN
      PERFORM app.record_event(NEW.organization_id, prefix || '.updated', prefix, new_row->>'id',
                               new_row || jsonb_build_object('changed', to_jsonb(changed)), audited);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- Makes a tenant table emit `<prefix>.created|updated|deleted` events: the way
-- a tenant model opts in (`SELECT app.emit_events('tasks', 'task', false)` in
-- its migration). The table needs `organization_id` and `id` columns.
CREATE FUNCTION app.emit_events(p_table regclass, p_prefix text, p_audit boolean, p_private text[] DEFAULT '{}')
  RETURNS void LANGUAGE plpgsql
AS $$
DECLARE
  args text := array_to_string(
    array[quote_literal(p_prefix), quote_literal(CASE WHEN p_audit THEN 'audit' ELSE 'no-audit' END)]
      || array(SELECT quote_literal(c) FROM unnest(p_private) c), ', ');
BEGIN
  IF p_prefix !~ '^[a-z_]+$' THEN RAISE EXCEPTION 'app.emit_events: prefix must be lower-case letters, got %', p_prefix; END IF;
  EXECUTE format('DROP TRIGGER IF EXISTS emit_events ON %s', p_table);
  EXECUTE format('CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION app.emit_row_events(%s)', p_table, args);
END
$$;
REVOKE ALL ON FUNCTION app.emit_events(regclass, text, boolean, text[]) FROM PUBLIC;

SELECT app.emit_events('projects', 'project', false);
SELECT app.emit_events('departments', 'department', true);
-- The secret never leaves the table; the URL may carry a token in its query, so only its origin does.
CREATE FUNCTION app.webhook_endpoint_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  r webhook_endpoints := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  payload jsonb := jsonb_build_object('id', r.id, 'url', substring(r.url FROM '^[a-z]+://[^/?#]+'), 'events', to_jsonb(r.event_types), 'enabled', r.enabled);
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM app.record_event(r.organization_id, 'webhook_endpoint.created', 'webhook_endpoint', r.id::text, payload, true);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM app.record_event(r.organization_id, 'webhook_endpoint.deleted', 'webhook_endpoint', r.id::text, payload, true);
  ELSIF NEW.secret IS DISTINCT FROM OLD.secret THEN
    PERFORM app.record_event(r.organization_id, 'webhook_endpoint.secret_rotated', 'webhook_endpoint', r.id::text, payload, true);
  ELSIF NEW.enabled AND NOT OLD.enabled OR NOT NEW.enabled AND OLD.enabled THEN
    PERFORM app.record_event(r.organization_id, CASE WHEN NEW.enabled THEN 'webhook_endpoint.enabled' ELSE 'webhook_endpoint.disabled' END,
                             'webhook_endpoint', r.id::text, payload || jsonb_build_object('reason', NEW.disabled_reason), true);
  ELSIF (NEW.url, NEW.description, NEW.event_types) IS DISTINCT FROM (OLD.url, OLD.description, OLD.event_types) THEN
    PERFORM app.record_event(r.organization_id, 'webhook_endpoint.updated', 'webhook_endpoint', r.id::text, payload, true);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON "webhook_endpoints"
  FOR EACH ROW EXECUTE FUNCTION app.webhook_endpoint_events();

-- Members: added, removed, role changed; a new OWNER is an ownership transfer.
CREATE FUNCTION app.membership_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM app.record_event(NEW.organization_id, 'member.added', 'user', NEW.user_id::text,
                             jsonb_build_object('userId', NEW.user_id, 'role', NEW.role), true);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM app.record_event(OLD.organization_id, 'member.removed', 'user', OLD.user_id::text,
                             jsonb_build_object('userId', OLD.user_id, 'role', OLD.role), true);
  ELSIF NEW.role IS DISTINCT FROM OLD.role THEN
    PERFORM app.record_event(NEW.organization_id, 'member.role_changed', 'user', NEW.user_id::text,
                             jsonb_build_object('userId', NEW.user_id, 'from', OLD.role, 'to', NEW.role), true);
    IF NEW.role = 'OWNER' THEN
      PERFORM app.record_event(NEW.organization_id, 'ownership.transferred', 'user', NEW.user_id::text,
                               jsonb_build_object('newOwnerId', NEW.user_id), true);
    END IF;
  ELSIF NEW.department_id IS DISTINCT FROM OLD.department_id THEN
    PERFORM app.record_event(NEW.organization_id, 'member.department_changed', 'user', NEW.user_id::text,
                             jsonb_build_object('userId', NEW.user_id, 'departmentId', NEW.department_id), true);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON "memberships"
  FOR EACH ROW EXECUTE FUNCTION app.membership_events();

-- Settings: which top-level sections changed, never the values (they may be
-- sensitive: allow-lists, channels). Secrets: which one was set or cleared.
CREATE FUNCTION app.organization_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  changed text[];
BEGIN
  SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed
    FROM (SELECT jsonb_object_keys(NEW.settings) AS k UNION SELECT jsonb_object_keys(OLD.settings)) keys
   WHERE NEW.settings->k IS DISTINCT FROM OLD.settings->k;
  IF cardinality(changed) > 0 THEN
    PERFORM app.record_event(NEW.id, 'organization.settings_changed', 'organization', NEW.id::text,
                             jsonb_build_object('sections', to_jsonb(changed)), true);
  END IF;
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    PERFORM app.record_event(NEW.id, 'organization.renamed', 'organization', NEW.id::text,
                             jsonb_build_object('from', OLD.name, 'to', NEW.name), true);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER UPDATE ON "organizations"
  FOR EACH ROW EXECUTE FUNCTION app.organization_events();

CREATE FUNCTION app.organization_secret_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
  PERFORM app.record_event(r.organization_id, 'organization.settings_changed', 'organization', r.organization_id::text,
                           jsonb_build_object('secret', r.name, 'action', CASE WHEN TG_OP = 'DELETE' THEN 'cleared' ELSE 'set' END), true);
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON "organization_secrets"
  FOR EACH ROW EXECUTE FUNCTION app.organization_secret_events();

CREATE FUNCTION app.subscription_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR (NEW.plan, NEW.status, NEW.seats, NEW.add_ons) IS DISTINCT FROM (OLD.plan, OLD.status, OLD.seats, OLD.add_ons) THEN
    PERFORM app.record_event(NEW.organization_id, 'subscription.changed', 'subscription', NEW.organization_id::text,
      jsonb_build_object('plan', NEW.plan, 'status', NEW.status, 'seats', NEW.seats, 'addOns', to_jsonb(NEW.add_ons))
        || CASE WHEN TG_OP = 'UPDATE' THEN jsonb_build_object('previous',
             jsonb_build_object('plan', OLD.plan, 'status', OLD.status, 'seats', OLD.seats, 'addOns', to_jsonb(OLD.add_ons))) ELSE '{}' END,
      true);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE ON "subscriptions"
  FOR EACH ROW EXECUTE FUNCTION app.subscription_events();

CREATE FUNCTION app.invoice_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  payload jsonb := jsonb_build_object('id', NEW.id, 'period', NEW.period, 'currency', NEW.currency, 'totalMinor', NEW.total_minor::text, 'status', NEW.status);
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM app.record_event(NEW.organization_id, 'invoice.issued', 'invoice', NEW.id::text, payload, false);
  ELSIF NEW.status = 'PAID' AND OLD.status IS DISTINCT FROM 'PAID' THEN
    PERFORM app.record_event(NEW.organization_id, 'invoice.paid', 'invoice', NEW.id::text, payload, false);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE ON "invoices"
  FOR EACH ROW EXECUTE FUNCTION app.invoice_events();

CREATE FUNCTION app.domain_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM app.record_event(NEW.organization_id, 'domain.added', 'domain', NEW.domain, jsonb_build_object('domain', NEW.domain), true);
    IF NEW.verified THEN
      PERFORM app.record_event(NEW.organization_id, 'domain.verified', 'domain', NEW.domain, jsonb_build_object('domain', NEW.domain), true);
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM app.record_event(OLD.organization_id, 'domain.removed', 'domain', OLD.domain, jsonb_build_object('domain', OLD.domain), true);
  ELSIF NEW.verified IS DISTINCT FROM OLD.verified THEN
    -- The method that proved it (migration 20261204140100), or the one whose proof was lost.
    PERFORM app.record_event(NEW.organization_id, CASE WHEN NEW.verified THEN 'domain.verified' ELSE 'domain.unverified' END,
                             'domain', NEW.domain, jsonb_build_object('domain', NEW.domain, 'method', coalesce(NEW.verified_method, OLD.verified_method)), true);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON "organization_domains"
  FOR EACH ROW EXECUTE FUNCTION app.domain_events();

CREATE FUNCTION app.quota_override_events() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, public
AS $$
DECLARE
  r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
  PERFORM app.record_event(r.organization_id, 'quota.override_changed', 'quota', r.resource::text,
    jsonb_build_object('resource', r.resource, 'limit', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW."limit"::text END,
                       'removed', TG_OP = 'DELETE'), true);
  RETURN NULL;
END
$$;
CREATE TRIGGER emit_events AFTER INSERT OR UPDATE OR DELETE ON "quota_overrides"
  FOR EACH ROW EXECUTE FUNCTION app.quota_override_events();
