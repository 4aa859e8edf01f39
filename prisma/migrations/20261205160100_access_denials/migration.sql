-- Denied access, audited and alerted (issue 16, item 5; docs/adr/0061-access-denials.md).
--
-- The gateway collects a request's denials while it runs and, once the response
-- has gone, writes them with app.record_access_denials() on a pool connection:
-- its own small transaction, never on the success path; one write at a time,
-- the denials of requests refused meanwhile batched into the next.

-- The alert windows: one row per actor and reason. The first denial of a window
-- raises an alert (a `security.access_denied` event, delivered like every event);
-- the next ones in the 10 minutes are counted, and the next window's alert
-- carries that count. In PostgreSQL, so the window holds across gateway processes
-- (the upsert's row lock orders concurrent denials).
CREATE TABLE "security_alert_windows" (
  -- The user's id, or `ip:<address>` when no user is known (a forged token).
  "actor_key" TEXT NOT NULL,
  "reason" TEXT NOT NULL,
  "window_started_at" TIMESTAMPTZ(3) NOT NULL,
  -- Denials in the current window, the alerting one included.
  "denials" INTEGER NOT NULL,
  -- Denials of the previous window that raised no alert of their own.
  "previous_suppressed" INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT "security_alert_windows_pkey" PRIMARY KEY ("actor_key", "reason"),
  CONSTRAINT "security_alert_windows_actor_key_length" CHECK (length("actor_key") <= 100)
);
CREATE INDEX "security_alert_windows_window_started_at_idx" ON "security_alert_windows"("window_started_at");
COMMENT ON TABLE "security_alert_windows" IS '@global: the platform''s alert rate limit per actor and reason, written only by app.record_access_denials()';
ALTER TABLE "security_alert_windows" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "security_alert_windows" FORCE ROW LEVEL SECURITY;
-- No grant: only the owner role (app.record_access_denials, the worker's pruning) touches it.

-- The severity of each reason (data the gateway does not choose).
CREATE FUNCTION app.denial_severity(p_reason text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT CASE p_reason
      WHEN 'cross_organization' THEN 'high'
      WHEN 'not_a_member' THEN 'high'
      WHEN 'invalid_token' THEN 'medium'
      WHEN 'ip_not_allowed' THEN 'medium'
      WHEN 'not_a_platform_operator' THEN 'medium'
      ELSE 'low' END
  $$;

-- Records denials. p_denials: a JSON array (at most 500) of
--   {reason, userId?, organizationId? (the token's org claim), support?, operation?, code?,
--    candidates? [{table, type, id}], quota? {resource, limit, used}, ip?, userAgent?, requestId?}
--
-- SECURITY DEFINER: a denial concerns an organization the caller may not be a
-- member of (a token for another organization, another organization's id), and
-- platform_security_log and security_alert_windows have no grant. It decides
-- itself, from the database, what is true: whether the user is a member of the
-- organization the token names (else the attempt is on that organization), and
-- whether a candidate id names a row of another organization (else it is a
-- missing id, and nothing is recorded). It returns nothing, so it answers no
-- question about another organization. What each side is told:
--   - the caller's organization (a member): one audit entry, actor, IP and user
--     agent, the reason and the operation; for a cross-organization attempt the
--     type asked for, not the id, nor whose it is;
--   - the target organization: one audit entry of actor `outsider`, no identity,
--     no address: that someone outside tried, and on which of its own rows;
--   - the platform (platform_security_log): everything, for every attempt on
--     another organization and every denial with no organization to tell.
CREATE FUNCTION app.record_access_denials(p_denials jsonb) RETURNS void
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
        CONTINUE WHEN (c->>'id') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
          OR (SELECT count(*) FROM pg_attribute a
               WHERE a.attrelid = to_regclass(format('public.%I', c->>'table')) AND a.attname IN ('organization_id', 'id') AND NOT a.attisdropped) <> 2;
        EXECUTE format('SELECT organization_id FROM public.%I WHERE id = $1 AND organization_id IS DISTINCT FROM $2 LIMIT 1', c->>'table')
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
REVOKE ALL ON FUNCTION app.record_access_denials(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.record_access_denials(jsonb) TO tenantgate_runtime;
