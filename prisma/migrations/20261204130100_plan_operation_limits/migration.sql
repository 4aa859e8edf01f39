-- tenantgate: per-plan operation limits (issue 13, item 1).
--
-- How big one GraphQL operation may be, per plan: data like plan_limits, read
-- by the gateway (src/limits/plan-limits.ts) and applied before execution
-- (src/plugins/use-operation-limits.ts). Platform data: no organization_id, no
-- RLS, readable by the runtime role, written only by the admin role.
CREATE TABLE "plan_operation_limits" (
    "plan" "Plan" NOT NULL,
    -- Lexical tokens of the document (graphql-js' lexer).
    "max_tokens" INTEGER NOT NULL,
    -- Nesting of fields, fragments expanded (graphql-armor max-depth).
    "max_depth" INTEGER NOT NULL,
    -- Aliased fields, fragments expanded (graphql-armor max-aliases).
    "max_aliases" INTEGER NOT NULL,
    -- Directives (graphql-armor max-directives).
    "max_directives" INTEGER NOT NULL,
    -- graphql-armor cost-limit, connection first/last multiplying their selections.
    "max_cost" INTEGER NOT NULL,
    CONSTRAINT "plan_operation_limits_pkey" PRIMARY KEY ("plan"),
    CONSTRAINT "plan_operation_limits_positive" CHECK (
        "max_tokens" > 0 AND "max_depth" > 0 AND "max_aliases" >= 0 AND "max_directives" >= 0 AND "max_cost" > 0
    )
);

INSERT INTO "plan_operation_limits" ("plan", "max_tokens", "max_depth", "max_aliases", "max_directives", "max_cost") VALUES
  ('FREE', 3000, 10, 30, 20, 20000),
  ('PRO', 6000, 12, 100, 50, 100000),
  ('ENTERPRISE', 12000, 15, 200, 100, 500000);

GRANT SELECT ON "plan_operation_limits" TO tenantgate_runtime;
