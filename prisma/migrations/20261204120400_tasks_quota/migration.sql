-- Plans limit tasks as data, like every other resource.
INSERT INTO "plan_limits" ("plan", "resource", "limit") VALUES
  ('FREE', 'TASKS', 100), ('PRO', 'TASKS', 10000), ('ENTERPRISE', 'TASKS', NULL);

-- app.quota_usage() with TASKS: every task of the organization, past RLS (see
-- 20261127030100_quotas for why it is SECURITY DEFINER and filters itself).
-- Replaces the function of 20261127030100_quotas; the other branches are unchanged.
CREATE OR REPLACE FUNCTION app.quota_usage(p_resource "QuotaResource") RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT (CASE p_resource
      WHEN 'USERS' THEN (SELECT count(*) FROM memberships WHERE organization_id = app.current_org_id())
      WHEN 'PROJECTS' THEN (SELECT count(*) FROM projects WHERE organization_id = app.current_org_id())
      WHEN 'STORAGE' THEN (SELECT coalesce(sum(bytes), 0) FROM storage_usage WHERE organization_id = app.current_org_id())
      -- This calendar month, in UTC like usage_daily.day.
      WHEN 'API_CALLS' THEN (SELECT coalesce(sum(api_calls), 0) FROM usage_daily
                              WHERE organization_id = app.current_org_id()
                                AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date)
      WHEN 'CUSTOM_DOMAINS' THEN (SELECT count(*) FROM organization_domains WHERE organization_id = app.current_org_id())
      WHEN 'TASKS' THEN (SELECT count(*) FROM tasks WHERE organization_id = app.current_org_id())
    END)::bigint
  $$;
