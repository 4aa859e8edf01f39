-- tenantgate: the gateway core.
--
-- Tenant isolation lives here, not in resolvers. Every table that carries
-- organization_id has ENABLE + FORCE ROW LEVEL SECURITY and one policy comparing
-- organization_id with app.current_org_id(). The application connects as a login
-- role that is a member of tenantgate_runtime: not superuser, not owner, no
-- BYPASSRLS. test/catalog.test.ts fails when a tenant table lacks any of this.

-- The group role that the runtime login role is a member of (created by
-- `npm run db:migrate`). Roles are cluster-wide, so create it only once.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantgate_runtime') THEN
    CREATE ROLE tenantgate_runtime NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

CREATE SCHEMA app;
GRANT USAGE ON SCHEMA app TO tenantgate_runtime;
GRANT USAGE ON SCHEMA public TO tenantgate_runtime;

-- The organization of the current transaction, set by the tenant client with
-- SET LOCAL. A pooled connection that once had the setting reads '' afterwards,
-- and ''::uuid throws, hence nullif: no setting means no rows, never an error.
-- STABLE and plain SQL, so the planner inlines it and uses it as an index condition.
CREATE FUNCTION app.current_org_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.current_org_id', true), '')::uuid $$;

-- The user of the current request, when the request has one.
CREATE FUNCTION app.current_user_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.current_user_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION app.current_org_id(), app.current_user_id() TO tenantgate_runtime;

CREATE TYPE "Role" AS ENUM ('OWNER', 'ADMIN', 'MEMBER');
CREATE TYPE "ProjectStatus" AS ENUM ('ACTIVE', 'ARCHIVED', 'COMPLETED');

CREATE TABLE "organizations" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "organizations_slug_format" CHECK ("slug" ~ '^[a-z0-9][a-z0-9-]{1,62}$')
);
CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations"("slug");

CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "users_email_lowercase" CHECK ("email" = lower("email"))
);
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

CREATE TABLE "memberships" (
    "organization_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'MEMBER',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "memberships_pkey" PRIMARY KEY ("organization_id", "user_id")
);
CREATE INDEX "memberships_organization_id_role_idx" ON "memberships"("organization_id", "role");
CREATE INDEX "memberships_user_id_idx" ON "memberships"("user_id");

CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    -- Filled in from the transaction's organization: creates need not name it.
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "name" TEXT NOT NULL,
    "status" "ProjectStatus" NOT NULL DEFAULT 'ACTIVE',
    "owner_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "projects_pkey" PRIMARY KEY ("organization_id", "id")
);
-- PERF: the connection orders by (created_at DESC, id DESC); with this index a
-- page of one organization is an index scan even over millions of rows.
CREATE INDEX "projects_organization_id_created_at_id_idx" ON "projects"("organization_id", "created_at" DESC, "id" DESC);
CREATE INDEX "projects_organization_id_status_created_at_id_idx" ON "projects"("organization_id", "status", "created_at" DESC, "id" DESC);
CREATE INDEX "projects_organization_id_owner_id_idx" ON "projects"("organization_id", "owner_id");

ALTER TABLE "memberships" ADD CONSTRAINT "memberships_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "projects" ADD CONSTRAINT "projects_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- The owner is a membership of the project's own organization.
ALTER TABLE "projects" ADD CONSTRAINT "projects_organization_id_owner_id_fkey" FOREIGN KEY ("organization_id", "owner_id") REFERENCES "memberships"("organization_id", "user_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Row-level security --------------------------------------------------------

ALTER TABLE "organizations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "organizations" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "organizations"
  USING ("id" = app.current_org_id())
  WITH CHECK ("id" = app.current_org_id());

ALTER TABLE "memberships" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "memberships" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "memberships"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "projects" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "projects" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "projects"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

-- Users are global identities, not tenant rows: a caller sees the users who are
-- members of the current organization (the memberships subquery is itself
-- filtered by memberships' policy) and itself. This is the one policy with a
-- subquery; in a Citus layout users would be a reference table, not distributed.
ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "users" FORCE ROW LEVEL SECURITY;
CREATE POLICY member_visibility ON "users" FOR SELECT
  USING ("id" = app.current_user_id()
         OR EXISTS (SELECT 1 FROM "memberships" m WHERE m."user_id" = "users"."id"));

-- What the runtime role may do. Creating organizations and users is the
-- platform's job (the system client), not a tenant's.
GRANT SELECT, UPDATE ON "organizations" TO tenantgate_runtime;
GRANT SELECT ON "users" TO tenantgate_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON "memberships" TO tenantgate_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON "projects" TO tenantgate_runtime;
