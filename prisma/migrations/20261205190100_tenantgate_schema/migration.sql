-- tenantgate's own tables in a PostgreSQL schema of their own (issue 12, item 7;
-- docs/adr/0090-own-schema.md), so that tenantgate can share a database whose
-- public schema already has a `users` table; the application's models (the
-- example Task, and any the user adds) stay in public.
--
-- The runner (src/db/migrate.ts) creates the schema (DATABASE_SCHEMA, default
-- tenantgate) and applies every migration with search_path = <schema>, public,
-- pg_temp, so current_schema() is that schema here, whatever its name. On a
-- fresh database the earlier migrations have already created tenantgate's
-- tables and types in it (their names are unqualified); on an install of the
-- previous layout they are in public, and this moves them. ALTER TABLE ... SET
-- SCHEMA keeps the rows, indexes, constraints, owned sequences, policies,
-- triggers and grants, and everything that refers to a table by its oid
-- (foreign keys, policies, defaults) follows it. SQL and PL/pgSQL function
-- bodies find tables by name, through search_path: the pinned search paths name
-- the schema before public (the runner writes it into every `SET search_path`
-- that names public, migrationSql(); below for the functions of an install of
-- the previous layout), and the connections' search_path is <schema>, public
-- (src/db/schemas.ts).
DO $$
DECLARE
  target name := current_schema();
  t text;
BEGIN
  IF target IS NULL OR target IN ('public', 'app', 'pg_catalog') THEN
    RAISE EXCEPTION 'run by `npm run db:migrate` (src/db/migrate.ts), which sets search_path to tenantgate''s schema first; current_schema() is %', target;
  END IF;

  -- tenantgate's tables: only what is still in public (an install of the previous layout).
  FOREACH t IN ARRAY ARRAY[
    'access_versions', 'add_ons', 'audit_log', 'audit_retention', 'deliveries', 'departments', 'events', 'files',
    'invitations', 'invoice_line_items', 'invoices', 'memberships', 'organization_domains', 'organization_secrets',
    'organizations', 'plan_limits', 'plan_operation_limits', 'plan_prices', 'plan_upload_limits', 'platform_audit_log',
    'platform_operators', 'platform_security_log', 'projects', 'quota_overrides', 'security_alert_windows', 'share_grants',
    'storage_usage', 'subscription_history', 'subscriptions', 'templates', 'usage_active_users', 'usage_daily', 'users',
    'webhook_endpoints'
  ] LOOP
    IF to_regclass(format('public.%I', t)) IS NOT NULL AND to_regclass(format('%I.%I', target, t)) IS NULL THEN
      EXECUTE format('ALTER TABLE public.%I SET SCHEMA %I', t, target);
    END IF;
  END LOOP;
  -- Their enums (each with its array type).
  FOREACH t IN ARRAY ARRAY['InvitationStatus', 'InvoiceStatus', 'Plan', 'ProjectStatus', 'QuotaResource', 'Role', 'SubscriptionStatus', 'Visibility'] LOOP
    IF to_regtype(format('public.%I', t)) IS NOT NULL AND to_regtype(format('%I.%I', target, t)) IS NULL THEN
      EXECUTE format('ALTER TYPE public.%I SET SCHEMA %I', t, target);
    END IF;
  END LOOP;

  -- The example model Task is the application's (@@schema("public")): on a fresh
  -- database its migrations created it beside tenantgate's tables; it goes to public.
  IF to_regclass(format('%I.tasks', target)) IS NOT NULL AND to_regclass('public.tasks') IS NULL THEN
    EXECUTE format('ALTER TABLE %I.tasks SET SCHEMA public', target);
  END IF;
  IF to_regtype(format('%I."TaskStatus"', target)) IS NOT NULL AND to_regtype('public."TaskStatus"') IS NULL THEN
    EXECUTE format('ALTER TYPE %I."TaskStatus" SET SCHEMA public', target);
  END IF;

  EXECUTE format('GRANT USAGE ON SCHEMA %I TO tenantgate_runtime', target);
  EXECUTE format('COMMENT ON SCHEMA %I IS %L', target, 'tenantgate''s own tables (docs/adr/0090-own-schema.md); its migrations are recorded in _prisma_migrations here');
END $$;

-- A denial's candidate table (app.record_access_denials): a permanent table of
-- tenantgate's schema or the application's, by name. It used to be public.<name>;
-- a temporary table of the caller's session is never one.
CREATE FUNCTION app.application_table(p_name text) RETURNS regclass
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass(quote_ident(p_name)) AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
       AND n.nspname <> 'pg_catalog'
  $$;
REVOKE ALL ON FUNCTION app.application_table(text) FROM PUBLIC;

-- app.record_access_denials() of 20261205160100_access_denials, its candidate
-- table found through app.application_table() instead of in public.
CREATE OR REPLACE FUNCTION app.record_access_denials(p_denials jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  d jsonb;
  c jsonb;
  v_reason text;
  v_severity text;
  v_user uuid;
  v_claimed uuid;
  v_caller_org uuid;
  v_target_org uuid;
  v_target_type text;
  v_target_id text;
  v_member boolean;
  v_actor_type text;
  v_key text;
  v_now timestamptz := clock_timestamp();
  v_alert boolean;
  v_suppressed integer;
  v_details jsonb;
  v_ip text;
  v_user_agent text;
  v_request_id text;
  v_table regclass;
BEGIN
  IF jsonb_typeof(p_denials) IS DISTINCT FROM 'array' OR jsonb_array_length(p_denials) > 500 THEN
    RAISE EXCEPTION 'app.record_access_denials: an array of at most 500 denials' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR d IN SELECT value FROM jsonb_array_elements(p_denials) LOOP
    v_ip := left(d->>'ip', 100);
    v_user_agent := left(d->>'userAgent', 500);
    v_request_id := left(d->>'requestId', 200);
    v_now := clock_timestamp();
    v_reason := d->>'reason';
    IF v_reason IS NULL OR v_reason NOT IN ('cross_organization', 'not_a_member', 'forbidden', 'ip_not_allowed', 'session_expired',
        'sso_required', 'quota_exceeded', 'operation_limit', 'invalid_token', 'not_a_platform_operator') THEN
      RAISE EXCEPTION 'app.record_access_denials: unknown reason %', v_reason USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_user := (d->>'userId')::uuid;
    v_claimed := (d->>'organizationId')::uuid;
    -- A member, or a platform operator in a support session (who acts as an admin).
    v_member := v_user IS NOT NULL AND v_claimed IS NOT NULL AND (
      EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = v_claimed AND m.user_id = v_user)
      OR (coalesce((d->>'support')::boolean, false) AND EXISTS (SELECT 1 FROM platform_operators p WHERE p.user_id = v_user)
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = v_claimed)));
    v_caller_org := CASE WHEN v_member THEN v_claimed END;
    v_actor_type := CASE WHEN coalesce((d->>'support')::boolean, false) THEN 'support' ELSE 'user' END;
    v_target_org := NULL;
    v_target_type := NULL;
    v_target_id := NULL;

    IF v_reason = 'cross_organization' THEN
      -- The ids the refused field was asked for: is one of them another organization's row?
      FOR c IN SELECT value FROM jsonb_array_elements(coalesce(d->'candidates', '[]')) LIMIT 10 LOOP
        -- Only a tenant table with an `id` (the catalog says so; the name is quoted by format's %I).
        v_table := app.application_table(c->>'table');
        CONTINUE WHEN (c->>'id') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
          OR v_table IS NULL
          OR (SELECT count(*) FROM pg_attribute a
               WHERE a.attrelid = v_table AND a.attname IN ('organization_id', 'id') AND NOT a.attisdropped) <> 2;
        EXECUTE format('SELECT organization_id FROM %s WHERE id = $1 AND organization_id IS DISTINCT FROM $2 LIMIT 1', v_table)
          INTO v_target_org USING (c->>'id')::uuid, v_caller_org;
        IF v_target_org IS NOT NULL THEN
          v_target_type := left(c->>'type', 64);
          v_target_id := c->>'id';
          EXIT;
        END IF;
      END LOOP;
      -- A missing id: not a denial, nothing to record.
      CONTINUE WHEN v_target_org IS NULL;
    ELSIF NOT v_member AND v_claimed IS NOT NULL AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = v_claimed) THEN
      -- A signed token for an organization its user is not a member of.
      v_reason := 'not_a_member';
      v_target_org := v_claimed;
      v_target_type := 'organization';
    END IF;
    v_severity := app.denial_severity(v_reason);
    v_details := jsonb_strip_nulls(jsonb_build_object('reason', v_reason, 'severity', v_severity,
      'operation', left(d->>'operation', 200), 'code', left(d->>'code', 64), 'quota', d->'quota',
      'targetType', CASE WHEN v_reason = 'cross_organization' THEN v_target_type END));

    IF v_caller_org IS NOT NULL THEN
      INSERT INTO audit_log (organization_id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, request_id, details)
      VALUES (v_caller_org, v_actor_type, v_user, 'security.access_denied', 'request', NULL, v_ip, v_user_agent, v_request_id, v_details);
    END IF;
    IF v_target_org IS NOT NULL THEN
      INSERT INTO audit_log (organization_id, actor_type, actor_id, action, target_type, target_id, details)
      VALUES (v_target_org, 'outsider', NULL, 'security.access_denied', v_target_type,
              CASE WHEN v_target_type = 'organization' THEN NULL ELSE v_target_id END,
              jsonb_build_object('reason', v_reason, 'severity', v_severity, 'outsider', true));
    END IF;
    IF v_target_org IS NOT NULL OR v_caller_org IS NULL THEN
      INSERT INTO platform_security_log (severity, reason, actor_user_id, actor_organization_id, target_organization_id, details)
      VALUES (v_severity, v_reason, v_user, v_caller_org, v_target_org,
              v_details || jsonb_strip_nulls(jsonb_build_object('claimedOrganizationId', v_claimed, 'targetId', v_target_id,
                                                                'ip', v_ip, 'userAgent', v_user_agent, 'requestId', v_request_id)));
    END IF;

    -- The alert: the first denial of this actor and reason in 10 minutes.
    v_key := left(coalesce(v_user::text, 'ip:' || v_ip, 'unknown'), 100);
    INSERT INTO security_alert_windows AS w (actor_key, reason, window_started_at, denials)
    VALUES (v_key, v_reason, v_now, 1)
    ON CONFLICT (actor_key, reason) DO UPDATE SET
      previous_suppressed = CASE WHEN w.window_started_at <= v_now - interval '10 minutes' THEN w.denials - 1 ELSE w.previous_suppressed END,
      window_started_at = CASE WHEN w.window_started_at <= v_now - interval '10 minutes' THEN v_now ELSE w.window_started_at END,
      denials = CASE WHEN w.window_started_at <= v_now - interval '10 minutes' THEN 1 ELSE w.denials + 1 END
    RETURNING w.denials = 1, w.previous_suppressed INTO v_alert, v_suppressed;
    CONTINUE WHEN NOT v_alert;

    IF v_caller_org IS NOT NULL THEN
      INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload, ip, user_agent, request_id)
      VALUES (v_caller_org, 'security.access_denied', 'user', v_user::text, v_actor_type, v_user,
              jsonb_strip_nulls(jsonb_build_object('reason', v_reason, 'severity', v_severity, 'operation', left(d->>'operation', 200),
                                                   'count', nullif(v_suppressed, 0))),
              v_ip, v_user_agent, v_request_id);
      IF v_reason = 'quota_exceeded' AND d->'quota' IS NOT NULL THEN
        INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload, ip, user_agent, request_id)
        VALUES (v_caller_org, 'quota.exceeded', 'quota', left(d->'quota'->>'resource', 64), v_actor_type, v_user,
                jsonb_build_object('resource', left(d->'quota'->>'resource', 64), 'limit', d->'quota'->'limit', 'used', d->'quota'->'used'),
                v_ip, v_user_agent, v_request_id);
      END IF;
    END IF;
    IF v_target_org IS NOT NULL THEN
      -- The target organization's alert: an outsider tried; never who.
      INSERT INTO events (organization_id, type, subject_type, subject_id, actor_type, actor_id, payload)
      VALUES (v_target_org, 'security.access_denied', v_target_type,
              CASE WHEN v_target_type = 'organization' THEN NULL ELSE v_target_id END, 'system', NULL,
              jsonb_strip_nulls(jsonb_build_object('reason', v_reason, 'severity', v_severity, 'outsider', true, 'count', nullif(v_suppressed, 0))));
    END IF;
    PERFORM pg_notify('tenantgate_events', '');
  END LOOP;
END
$$;

-- The invoker's trigger functions that read tables run with their caller's
-- search_path; pinned, they work for any client (psql with its default path too).
ALTER FUNCTION app.departments_no_cycle() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION app.memberships_keep_owner() SET search_path = pg_catalog, public, pg_temp;

-- Every pinned search path of the app schema names tenantgate's schema before
-- public (the functions above included); the other schemas stay, in their order.
DO $$
DECLARE
  target name := current_schema();
  f record;
  schemas text[];
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS signature, substr(c, length('search_path=') + 1) AS path
      FROM pg_proc p CROSS JOIN unnest(p.proconfig) AS c
     WHERE p.pronamespace = 'app'::regnamespace AND c LIKE 'search_path=%'
  LOOP
    schemas := string_to_array(replace(f.path, ' ', ''), ',');
    CONTINUE WHEN quote_ident(target) = ANY (schemas) OR target = ANY (schemas) OR NOT 'public' = ANY (schemas);
    schemas := array_replace(schemas, 'public', quote_ident(target) || ', public');
    EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.signature, array_to_string(schemas, ', '));
  END LOOP;
END $$;
