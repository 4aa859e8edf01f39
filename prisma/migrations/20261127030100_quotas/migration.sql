-- tenantgate: quota enforcement (plan limits and overrides come with the
-- previous migration).

-- How much of a resource the current organization uses: what organization.quotas
-- reports and what the quota checks compare with the limit.
--
-- SECURITY DEFINER, because a quota counts every row of the organization: the
-- department_restriction policy hides restricted projects from some members, and
-- a count through RLS would let such a member create past the limit. In exchange
-- it filters by app.current_org_id() itself, so it counts for the caller's own
-- organization only (none without a setting) and tells nothing but a number.
CREATE FUNCTION app.quota_usage(p_resource "QuotaResource") RETURNS bigint
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
    END)::bigint
  $$;
REVOKE ALL ON FUNCTION app.quota_usage("QuotaResource") FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.quota_usage("QuotaResource") TO tenantgate_runtime;

-- addDomain: owners and admins add a domain, unverified. SECURITY: the domain
-- only; organization_id defaults to app.current_org_id() (and RLS checks it),
-- and verified/verified_at keep their defaults until verification sets them.
GRANT INSERT ("domain") ON "organization_domains" TO tenantgate_runtime;
