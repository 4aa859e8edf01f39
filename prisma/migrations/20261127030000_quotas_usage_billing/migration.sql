-- tenantgate: per-plan quotas, usage tracking and billing.
--
-- Plans, their limits and their prices are data (seeded here), not constants in
-- code. Money is integer minor units (cents) everywhere.

CREATE TYPE "QuotaResource" AS ENUM ('USERS', 'PROJECTS', 'STORAGE', 'API_CALLS', 'CUSTOM_DOMAINS');
CREATE TYPE "InvoiceStatus" AS ENUM ('OPEN', 'PAID', 'VOID');

-- Plans --------------------------------------------------------------------------

-- Platform data, the same for every organization: readable by the runtime role,
-- written only by the admin role. No organization_id, so no RLS.
CREATE TABLE "plan_limits" (
    "plan" "Plan" NOT NULL,
    "resource" "QuotaResource" NOT NULL,
    -- NULL means unlimited.
    "limit" BIGINT,
    CONSTRAINT "plan_limits_pkey" PRIMARY KEY ("plan", "resource"),
    CONSTRAINT "plan_limits_limit_not_negative" CHECK ("limit" IS NULL OR "limit" >= 0)
);

INSERT INTO "plan_limits" ("plan", "resource", "limit") VALUES
  ('FREE', 'USERS', 5), ('FREE', 'PROJECTS', 10), ('FREE', 'STORAGE', 1073741824), ('FREE', 'API_CALLS', 1000), ('FREE', 'CUSTOM_DOMAINS', 0),
  ('PRO', 'USERS', 50), ('PRO', 'PROJECTS', 100), ('PRO', 'STORAGE', 107374182400), ('PRO', 'API_CALLS', 100000), ('PRO', 'CUSTOM_DOMAINS', 3),
  ('ENTERPRISE', 'USERS', NULL), ('ENTERPRISE', 'PROJECTS', NULL), ('ENTERPRISE', 'STORAGE', NULL), ('ENTERPRISE', 'API_CALLS', NULL), ('ENTERPRISE', 'CUSTOM_DOMAINS', NULL);

-- What a plan costs, in minor units of its currency, per month.
CREATE TABLE "plan_prices" (
    "plan" "Plan" NOT NULL,
    "currency" CHAR(3) NOT NULL DEFAULT 'USD',
    "base_minor" BIGINT NOT NULL,
    -- Per seat, for every seat of the subscription.
    "seat_minor" BIGINT NOT NULL,
    -- Metered usage: what is included each month, and the price of the rest.
    "included_bandwidth_bytes" BIGINT NOT NULL,
    "bandwidth_gb_minor" BIGINT NOT NULL,
    "included_compute_ms" BIGINT NOT NULL,
    "compute_hour_minor" BIGINT NOT NULL,
    CONSTRAINT "plan_prices_pkey" PRIMARY KEY ("plan"),
    CONSTRAINT "plan_prices_not_negative" CHECK (base_minor >= 0 AND seat_minor >= 0 AND bandwidth_gb_minor >= 0 AND compute_hour_minor >= 0)
);

INSERT INTO "plan_prices" VALUES
  ('FREE',       'USD',     0,    0,    1073741824,   0,    3600000,    0),
  ('PRO',        'USD',  4900, 1000,  107374182400,  10,   36000000,  200),
  ('ENTERPRISE', 'USD', 49900, 2000, 1099511627776,   5,  360000000,  100);

-- Optional extras of a subscription, priced per month.
CREATE TABLE "add_ons" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL DEFAULT 'USD',
    "price_minor" BIGINT NOT NULL,
    CONSTRAINT "add_ons_pkey" PRIMARY KEY ("code"),
    CONSTRAINT "add_ons_price_not_negative" CHECK ("price_minor" >= 0)
);

INSERT INTO "add_ons" VALUES
  ('advanced-analytics', 'Advanced analytics', 'USD', 2900),
  ('priority-support', 'Priority support', 'USD', 9900),
  ('sso', 'Single sign-on', 'USD', 4900);

GRANT SELECT ON "plan_limits", "plan_prices", "add_ons" TO tenantgate_runtime;

-- Per-organization overrides of a plan limit, set by platform operators.
CREATE TABLE "quota_overrides" (
    "organization_id" UUID NOT NULL,
    "resource" "QuotaResource" NOT NULL,
    -- NULL means unlimited.
    "limit" BIGINT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "quota_overrides_pkey" PRIMARY KEY ("organization_id", "resource"),
    CONSTRAINT "quota_overrides_limit_not_negative" CHECK ("limit" IS NULL OR "limit" >= 0)
);
ALTER TABLE "quota_overrides" ADD CONSTRAINT "quota_overrides_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Usage ------------------------------------------------------------------------------

-- Counters per organization and UTC day, added to in batches by the gateway.
CREATE TABLE "usage_daily" (
    "organization_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "api_calls" BIGINT NOT NULL DEFAULT 0,
    "bandwidth_bytes" BIGINT NOT NULL DEFAULT 0,
    "compute_ms" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "usage_daily_pkey" PRIMARY KEY ("organization_id", "day")
);
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Who made a request on which day: distinct users of any period.
CREATE TABLE "usage_active_users" (
    "organization_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "user_id" UUID NOT NULL,
    CONSTRAINT "usage_active_users_pkey" PRIMARY KEY ("organization_id", "day", "user_id")
);
ALTER TABLE "usage_active_users" ADD CONSTRAINT "usage_active_users_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Bytes held, until the storage feature keeps it current itself.
CREATE TABLE "storage_usage" (
    "organization_id" UUID NOT NULL,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "storage_usage_pkey" PRIMARY KEY ("organization_id"),
    CONSTRAINT "storage_usage_bytes_not_negative" CHECK ("bytes" >= 0)
);
ALTER TABLE "storage_usage" ADD CONSTRAINT "storage_usage_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The gateway's usage recorder flushes many organizations' counters in one
-- statement. It runs as the runtime role, which RLS confines to one organization,
-- so the flush goes through this function. It only ever adds.
CREATE FUNCTION app.record_usage(p_rows jsonb) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    INSERT INTO usage_daily (organization_id, day, api_calls, bandwidth_bytes, compute_ms)
    SELECT r.organization_id, r.day, r.api_calls, r.bandwidth_bytes, r.compute_ms
      FROM jsonb_to_recordset(p_rows -> 'counters') AS r(organization_id uuid, day date, api_calls bigint, bandwidth_bytes bigint, compute_ms bigint)
      WHERE r.api_calls >= 0 AND r.bandwidth_bytes >= 0 AND r.compute_ms >= 0
        AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = r.organization_id)
    ON CONFLICT (organization_id, day) DO UPDATE
      SET api_calls = usage_daily.api_calls + EXCLUDED.api_calls,
          bandwidth_bytes = usage_daily.bandwidth_bytes + EXCLUDED.bandwidth_bytes,
          compute_ms = usage_daily.compute_ms + EXCLUDED.compute_ms;
    INSERT INTO usage_active_users (organization_id, day, user_id)
    SELECT r.organization_id, r.day, r.user_id
      FROM jsonb_to_recordset(p_rows -> 'activeUsers') AS r(organization_id uuid, day date, user_id uuid)
      WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = r.organization_id)
    ON CONFLICT DO NOTHING;
  $$;
REVOKE ALL ON FUNCTION app.record_usage(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.record_usage(jsonb) TO tenantgate_runtime;

-- Billing ----------------------------------------------------------------------------

CREATE TABLE "invoices" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    -- The month billed: its first day.
    "period" DATE NOT NULL,
    "status" "InvoiceStatus" NOT NULL DEFAULT 'OPEN',
    "plan" "Plan" NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "total_minor" BIGINT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "due_date" DATE NOT NULL,
    "paid_at" TIMESTAMPTZ(3),
    "paid_minor" BIGINT,
    CONSTRAINT "invoices_pkey" PRIMARY KEY ("organization_id", "id"),
    CONSTRAINT "invoices_period_first_of_month" CHECK ("period" = date_trunc('month', "period")::date),
    CONSTRAINT "invoices_total_not_negative" CHECK ("total_minor" >= 0),
    CONSTRAINT "invoices_paid_consistent" CHECK (("status" = 'PAID') = ("paid_at" IS NOT NULL))
);
-- One invoice per organization and month: what makes invoicing idempotent.
CREATE UNIQUE INDEX "invoices_organization_id_period_key" ON "invoices"("organization_id", "period");
CREATE INDEX "invoices_organization_id_status_due_date_idx" ON "invoices"("organization_id", "status", "due_date");
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "invoice_line_items" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "quantity" BIGINT NOT NULL,
    "unit_price_minor" BIGINT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    CONSTRAINT "invoice_line_items_pkey" PRIMARY KEY ("organization_id", "id"),
    CONSTRAINT "invoice_line_items_kind" CHECK ("kind" IN ('BASE_PLAN', 'SEATS', 'ADD_ON', 'OVERAGE'))
);
CREATE UNIQUE INDEX "invoice_line_items_organization_id_invoice_id_position_key" ON "invoice_line_items"("organization_id", "invoice_id", "position");
ALTER TABLE "invoice_line_items" ADD CONSTRAINT "invoice_line_items_organization_id_invoice_id_fkey" FOREIGN KEY ("organization_id", "invoice_id") REFERENCES "invoices"("organization_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security ---------------------------------------------------------------------

ALTER TABLE "quota_overrides" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "quota_overrides" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "quota_overrides"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "usage_daily" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "usage_daily" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "usage_daily"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "usage_active_users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "usage_active_users" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "usage_active_users"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "storage_usage" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "storage_usage" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "storage_usage"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "invoices" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "invoices" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "invoices"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "invoice_line_items" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "invoice_line_items" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "invoice_line_items"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

-- Tenants read their quotas, usage and invoices; the platform writes them.
GRANT SELECT ON "quota_overrides", "usage_daily", "usage_active_users", "storage_usage", "invoices", "invoice_line_items" TO tenantgate_runtime;
-- Owners change their plan, seats and add-ons (updateSubscription); status and
-- paid_through move only with payments (the platform).
GRANT UPDATE ("plan", "seats", "add_ons", "updated_at") ON "subscriptions" TO tenantgate_runtime;
