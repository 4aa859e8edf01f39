-- tenantgate: the access check also scopes the rest of its transaction.
--
-- PERF: a query request now runs its reads in the transaction that its access
-- check opened (src/context.ts, src/db/request-transaction.ts): one message
-- `BEGIN READ ONLY; SET LOCAL <organization, user>; SELECT * FROM
-- app.request_access(...)` instead of an access check of its own followed by
-- BEGIN and SET LOCAL for the reads. The role and the department path are only
-- known once the check has run, so the function sets them itself, with SET
-- LOCAL (not set_config: Citus forwards SET LOCAL to its workers), and only for
-- a member. A support session (p_support, a listed platform operator) acts as an
-- ADMIN, or keeps OWNER: the rule src/context.ts applies as well.
--
-- VOLATILE because it sets configuration. SECURITY INVOKER: RLS applies inside
-- exactly as outside. The plans of its queries are still cached per connection.
--
-- A new signature (p_support), created beside the old one: gateways of the
-- previous version keep calling the five-argument function during a rolling
-- deploy. A later migration drops it.

CREATE FUNCTION app.request_access(
  p_user_id uuid,
  p_support boolean,
  p_check_operator boolean,
  p_check_quota boolean,
  p_month_from date,
  p_month_until date
) RETURNS TABLE (
  id uuid,
  slug text,
  name text,
  settings jsonb,
  created_at timestamptz,
  updated_at timestamptz,
  role text,
  department_path text[],
  platform_operator boolean,
  api_calls_limit bigint,
  api_calls_used bigint
)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
  WITH RECURSIVE me AS (
    SELECT m.role, m.department_id FROM memberships m WHERE m.user_id = p_user_id
  ), path(id, parent_id, depth) AS (
    SELECT d.id, d.parent_id, 1 FROM departments d JOIN me ON d.id = me.department_id
    UNION ALL
    SELECT d.id, d.parent_id, p.depth + 1 FROM departments d JOIN path p ON d.id = p.parent_id WHERE p.depth < 64
  )
  SELECT o.id, o.slug, o.name, o.settings, o.created_at::timestamptz, o.updated_at::timestamptz,
         (SELECT me.role::text FROM me),
         ARRAY(SELECT path.id::text FROM path ORDER BY path.depth),
         CASE WHEN p_check_operator THEN app.is_platform_operator(p_user_id) ELSE false END,
         api."limit",
         CASE WHEN api."limit" IS NOT NULL THEN (
           SELECT COALESCE(sum(u.api_calls), 0)::bigint FROM usage_daily u
            WHERE u.organization_id = o.id AND u.day >= p_month_from AND u.day < p_month_until
         ) END
    INTO id, slug, name, settings, created_at, updated_at, role, department_path, platform_operator, api_calls_limit, api_calls_used
    FROM organizations o
    LEFT JOIN LATERAL (
      SELECT CASE WHEN q.organization_id IS NULL THEN pl."limit" ELSE q."limit" END AS "limit"
        FROM plan_limits pl
        LEFT JOIN quota_overrides q ON q.organization_id = o.id AND q.resource = 'API_CALLS'
       WHERE p_check_quota AND pl.resource = 'API_CALLS'
         AND pl.plan = COALESCE((SELECT s.plan FROM subscriptions s WHERE s.organization_id = o.id), 'FREE')
    ) api ON true;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_support AND platform_operator THEN
    role := CASE WHEN role = 'OWNER' THEN 'OWNER' ELSE 'ADMIN' END;
  END IF;
  IF role IS NOT NULL THEN
    EXECUTE format('SET LOCAL app.current_member_role = %L', role);
    EXECUTE format('SET LOCAL app.current_department_path = %L', array_to_string(department_path, ','));
  END IF;
  RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION app.request_access(uuid, boolean, boolean, boolean, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.request_access(uuid, boolean, boolean, boolean, date, date) TO tenantgate_runtime;
