-- Issue 13, item 5: subscription changes recorded with their effective times,
-- so that invoices price each plan and add-on for the days it was in force
-- (src/billing/proration.ts, ADR 0033).
--
-- One row per state of a subscription: what it became (plan, seats, add-ons,
-- status) and when (effective_at, the changing transaction's now()). Written
-- only by the trigger below, in the transaction of the change itself: a change
-- that commits has its row, one that rolls back has none, and no path of the
-- application can forget it. The runtime role reads its own organization's
-- rows (RLS) and may write none: a tenant that could insert history could
-- invoice itself a cheaper month.
CREATE TABLE "subscription_history" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    "plan" "Plan" NOT NULL,
    "status" "SubscriptionStatus" NOT NULL,
    "seats" INTEGER NOT NULL,
    "add_ons" TEXT[] NOT NULL,
    CONSTRAINT "subscription_history_pkey" PRIMARY KEY ("organization_id", "id")
);
CREATE INDEX "subscription_history_organization_id_effective_at_idx" ON "subscription_history"("organization_id", "effective_at");
ALTER TABLE "subscription_history" ADD CONSTRAINT "subscription_history_organization_id_fkey"
  FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "subscription_history" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "subscription_history" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "subscription_history"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
-- Billing data, like invoices: owners and admins only.
CREATE POLICY billing_roles ON "subscription_history" AS RESTRICTIVE FOR SELECT
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));
GRANT SELECT ON "subscription_history" TO tenantgate_runtime;

-- SECURITY DEFINER: the runtime role changes a subscription (updateSubscription)
-- but has no INSERT on the history; the function writes the row as its owner.
-- Only a change of what is billed makes a row (not updated_at, paid_through or
-- past_due_since alone).
CREATE FUNCTION app.subscription_history_record() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR (NEW.plan, NEW.status, NEW.seats, NEW.add_ons) IS DISTINCT FROM (OLD.plan, OLD.status, OLD.seats, OLD.add_ons) THEN
    INSERT INTO subscription_history (organization_id, effective_at, plan, status, seats, add_ons)
    VALUES (NEW.organization_id, now(), NEW.plan, NEW.status, NEW.seats, NEW.add_ons);
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.subscription_history_record() FROM PUBLIC;
CREATE TRIGGER record_history AFTER INSERT OR UPDATE ON "subscriptions"
  FOR EACH ROW EXECUTE FUNCTION app.subscription_history_record();

-- The subscriptions that exist now: their present state, in force since they
-- were created (there is no earlier record to go by).
INSERT INTO "subscription_history" ("organization_id", "effective_at", "plan", "status", "seats", "add_ons")
SELECT "organization_id", "created_at", "plan", "status", "seats", "add_ons" FROM "subscriptions";
