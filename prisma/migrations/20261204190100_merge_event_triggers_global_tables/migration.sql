-- Where the work of this release met (issues 14, 15 and 16).
--
-- 1. The event triggers run as their owner. A row's event belongs to the row's
--    organization, which is not always the transaction's: an organization with
--    WRITE on a shared project (migration 20261204150200_sharing) updates the
--    owner's row, and its event goes to the owner's outbox, which the events
--    policy (organization_id = app.current_org_id()) refused. A trigger function
--    cannot be called by a client, so this lends the outbox to nothing but the
--    trigger; app.record_event() itself stays an invoker's function, so a client
--    still writes events for its own organization only.
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS signature
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'app' AND p.prorettype = 'trigger'::regtype AND p.prosrc LIKE '%record_event%'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp', f.signature);
    -- Firing a trigger needs no EXECUTE privilege; nobody is to call these directly.
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.signature);
  END LOOP;
END $$;

-- 2. Tables without a Prisma model that belong to no organization, declared
--    global for the tenancy check (src/tenancy/catalog.ts).
COMMENT ON TABLE "audit_retention" IS '@global: platform data, how long each plan keeps its audit log';
COMMENT ON TABLE "platform_security_log" IS '@global: the platform''s own log of cross-organization attempts, read by platform operators only';

-- 3. An organization reads its own events (the events policy scopes them), as
--    it read them before the outbox took the table over (migration 20261204140100).
GRANT SELECT ON "events" TO tenantgate_runtime;
