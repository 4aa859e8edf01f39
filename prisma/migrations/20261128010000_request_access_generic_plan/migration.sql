-- app.request_access() runs one query whose plan PL/pgSQL caches per connection.
-- PostgreSQL re-plans a cached statement for as long as a plan made for the
-- actual arguments looks cheaper than the generic one, and with
-- p_check_quota = false (a gateway without usage tracking) the quota subquery
-- prunes away, so it looked cheaper every time: about 0.45 ms of planning on
-- each call. Under the runtime role, 3,000 calls took 1.8 s with false and
-- 0.6 s with true; with a generic plan forced, 0.3-0.4 s either way (the plan
-- itself is 0.2 ms of execution; its one-off planning about 4 ms).
--
-- SET on a function applies to plan_cache_mode only: the SET LOCALs of
-- app.current_member_role and app.current_department_path inside it still
-- last until the end of the transaction.
ALTER FUNCTION app.request_access(uuid, boolean, boolean, boolean, date, date)
  SET plan_cache_mode = force_generic_plan;
