-- Issue 13, item 8: SECURITY DEFINER functions and the usage recorder.

-- A SECURITY DEFINER function runs with its owner's rights, and resolves the
-- names it uses through its search_path. When pg_temp is not named there,
-- PostgreSQL searches it FIRST: a temporary table "platform_operators" that the
-- runtime role created made app.is_platform_operator() true for anyone. Every
-- SECURITY DEFINER function of tenantgate's (schema app) gets its search_path with
-- pg_temp named last; the other schemas it listed stay, in their order; the
-- application's own functions, in a database tenantgate shares, are not its to
-- change. test/definer.test.ts checks the catalog, so a function added later
-- without it fails the suite.
DO $$
DECLARE
  f record;
  schemas text[];
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS signature,
           (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%') AS path
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.prosecdef AND n.nspname = 'app'
  LOOP
    schemas := array_remove(string_to_array(replace(coalesce(f.path, 'pg_catalog, public'), ' ', ''), ','), 'pg_temp');
    IF NOT 'pg_catalog' = ANY (schemas) THEN schemas := 'pg_catalog' || schemas; END IF;
    EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.signature, array_to_string(schemas || 'pg_temp'::text, ', '));
  END LOOP;
END $$;

-- The runtime role records usage for the organization of its transaction only
-- (app.current_org_id(), set by the recorder exactly as a request sets it): a
-- row of another organization fails the whole call (42501), so a runtime
-- connection cannot add usage to, or inflate the invoice of, any organization
-- it names. The recorder writes one organization per transaction
-- (src/usage/recorder.ts), which also keeps one organization's bad row from
-- failing the others' counts.
CREATE OR REPLACE FUNCTION app.record_usage(p_rows jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    v_org uuid := app.current_org_id();
  BEGIN
    IF v_org IS NULL THEN
      RAISE EXCEPTION 'app.record_usage: no organization in this transaction' USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(coalesce(p_rows -> 'counters', '[]')) AS r(organization_id uuid) WHERE r.organization_id IS DISTINCT FROM v_org)
       OR EXISTS (SELECT 1 FROM jsonb_to_recordset(coalesce(p_rows -> 'activeUsers', '[]')) AS r(organization_id uuid) WHERE r.organization_id IS DISTINCT FROM v_org) THEN
      RAISE EXCEPTION 'app.record_usage: rows of another organization than the transaction''s' USING ERRCODE = '42501';
    END IF;
    INSERT INTO usage_daily (organization_id, day, api_calls, bandwidth_bytes, compute_ms)
    SELECT v_org, r.day, sum(r.api_calls), sum(r.bandwidth_bytes), sum(r.compute_ms)
      FROM jsonb_to_recordset(coalesce(p_rows -> 'counters', '[]')) AS r(day date, api_calls bigint, bandwidth_bytes bigint, compute_ms bigint)
     WHERE r.api_calls >= 0 AND r.bandwidth_bytes >= 0 AND r.compute_ms >= 0
       AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = v_org)
     -- Grouped: two rows of one day must add up, not make ON CONFLICT touch a row twice.
     GROUP BY r.day
    ON CONFLICT (organization_id, day) DO UPDATE
      SET api_calls = usage_daily.api_calls + EXCLUDED.api_calls,
          bandwidth_bytes = usage_daily.bandwidth_bytes + EXCLUDED.bandwidth_bytes,
          compute_ms = usage_daily.compute_ms + EXCLUDED.compute_ms;
    INSERT INTO usage_active_users (organization_id, day, user_id)
    SELECT DISTINCT v_org, r.day, r.user_id
      FROM jsonb_to_recordset(coalesce(p_rows -> 'activeUsers', '[]')) AS r(day date, user_id uuid)
     WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = v_org)
    ON CONFLICT DO NOTHING;
  END;
  $$;
REVOKE ALL ON FUNCTION app.record_usage(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.record_usage(jsonb) TO tenantgate_runtime;
