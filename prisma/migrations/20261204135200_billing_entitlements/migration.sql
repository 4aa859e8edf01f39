-- Issue 13, item 5: entitlements follow billing (src/billing/entitlements.ts).

-- When a subscription turned PAST_DUE: its grace period counts from then.
-- Written by the system client only (markPastDue, payments); the runtime role's
-- UPDATE grant on subscriptions stays plan, seats, add_ons and updated_at.
ALTER TABLE "subscriptions" ADD COLUMN "past_due_since" TIMESTAMPTZ(3);
UPDATE "subscriptions" SET "past_due_since" = now() WHERE "status" = 'PAST_DUE';

-- Settings switched on before they were paid for are switched off once here:
-- the same rule as PAID_SETTINGS in src/billing/entitlements.ts, which applies
-- it to every later change.
UPDATE "organizations" o
   SET "settings" = jsonb_set(o."settings", '{features,advancedAnalytics}', 'false')
  FROM "subscriptions" s
 WHERE s."organization_id" = o."id" AND o."settings" #>> '{features,advancedAnalytics}' = 'true'
   AND NOT (s."status" <> 'CANCELED' AND (s."plan" = 'ENTERPRISE' OR 'advanced-analytics' = ANY (s."add_ons")));
UPDATE "organizations" o
   SET "settings" = jsonb_set(o."settings", '{security,enforceSSO}', 'false')
  FROM "subscriptions" s
 WHERE s."organization_id" = o."id" AND o."settings" #>> '{security,enforceSSO}' = 'true'
   AND NOT (s."status" <> 'CANCELED' AND (s."plan" = 'ENTERPRISE' OR 'sso' = ANY (s."add_ons")));
