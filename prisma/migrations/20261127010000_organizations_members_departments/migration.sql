-- tenantgate: organizations as first-class objects (settings, subscription,
-- domains, secrets), members with departments, department-restricted projects,
-- and the platform operator's scope with its audit log.

-- Request settings beyond the organization ---------------------------------

-- The caller's role in the current organization, set by the gateway after it
-- has checked the membership.
CREATE FUNCTION app.current_member_role() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.current_member_role', true), '') $$;

-- The caller's department and all its ancestors: a project restricted to any of
-- them is visible to the caller. Computed once per request by the gateway.
CREATE FUNCTION app.current_department_path() RETURNS uuid[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT string_to_array(nullif(current_setting('app.current_department_path', true), ''), ',')::uuid[] $$;

GRANT EXECUTE ON FUNCTION app.current_member_role(), app.current_department_path() TO tenantgate_runtime;

-- Organizations ----------------------------------------------------------------

CREATE TYPE "Plan" AS ENUM ('FREE', 'PRO', 'ENTERPRISE');
CREATE TYPE "SubscriptionStatus" AS ENUM ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED');

-- Non-secret settings (branding, security, features, integration switches), as
-- one document validated by the gateway. Secrets live in organization_secrets.
ALTER TABLE "organizations" ADD COLUMN "settings" JSONB NOT NULL DEFAULT '{}';

-- SECURITY: a tenant may rename its organization and change its settings, and
-- nothing else of the row (not its id, not its slug).
REVOKE UPDATE ON "organizations" FROM tenantgate_runtime;
GRANT UPDATE ("name", "settings", "updated_at") ON "organizations" TO tenantgate_runtime;

CREATE TABLE "subscriptions" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "plan" "Plan" NOT NULL DEFAULT 'FREE',
    "status" "SubscriptionStatus" NOT NULL DEFAULT 'ACTIVE',
    "seats" INTEGER NOT NULL DEFAULT 5,
    "add_ons" TEXT[] NOT NULL DEFAULT '{}',
    "paid_through" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("organization_id"),
    CONSTRAINT "subscriptions_seats_positive" CHECK ("seats" >= 1)
);
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
INSERT INTO "subscriptions" ("organization_id") SELECT "id" FROM "organizations";

CREATE TABLE "organization_domains" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "domain" TEXT NOT NULL,
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "verified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "organization_domains_pkey" PRIMARY KEY ("organization_id", "domain"),
    CONSTRAINT "organization_domains_domain_format" CHECK ("domain" ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$')
);
ALTER TABLE "organization_domains" ADD CONSTRAINT "organization_domains_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Write-only secrets (integration API keys, webhook URLs). SECURITY: the runtime
-- role may write a value but never read one back: its SELECT grant leaves the
-- value column out, so not even raw SQL through the gateway returns it.
CREATE TABLE "organization_secrets" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "masked" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "organization_secrets_pkey" PRIMARY KEY ("organization_id", "name")
);
ALTER TABLE "organization_secrets" ADD CONSTRAINT "organization_secrets_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Departments --------------------------------------------------------------------

CREATE TABLE "departments" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "name" TEXT NOT NULL,
    "parent_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "departments_pkey" PRIMARY KEY ("organization_id", "id")
);
CREATE INDEX "departments_organization_id_parent_id_idx" ON "departments"("organization_id", "parent_id");
-- A parent in the same organization; a parent with children cannot be deleted.
ALTER TABLE "departments" ADD CONSTRAINT "departments_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "departments" ADD CONSTRAINT "departments_organization_id_parent_id_fkey" FOREIGN KEY ("organization_id", "parent_id") REFERENCES "departments"("organization_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- No cycles: a department cannot be moved under itself or its own descendant.
-- Moves within one organization are serialised, so two concurrent moves cannot
-- build a cycle that neither would see alone.
CREATE FUNCTION app.departments_no_cycle() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.parent_id IS NULL THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('departments:' || NEW.organization_id::text, 0));
  IF EXISTS (
    WITH RECURSIVE ancestors(id, parent_id) AS (
      SELECT d.id, d.parent_id FROM departments d WHERE d.organization_id = NEW.organization_id AND d.id = NEW.parent_id
      UNION
      SELECT d.id, d.parent_id FROM departments d JOIN ancestors a ON d.id = a.parent_id WHERE d.organization_id = NEW.organization_id
    )
    SELECT 1 FROM ancestors WHERE id = NEW.id
  ) THEN
    RAISE EXCEPTION 'department % cannot be moved under its own descendant', NEW.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'departments_no_cycle';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER departments_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON "departments"
  FOR EACH ROW EXECUTE FUNCTION app.departments_no_cycle();

-- Members ------------------------------------------------------------------------

ALTER TABLE "memberships" ADD COLUMN "department_id" UUID;
CREATE INDEX "memberships_organization_id_department_id_idx" ON "memberships"("organization_id", "department_id");
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_organization_id_department_id_fkey" FOREIGN KEY ("organization_id", "department_id") REFERENCES "departments"("organization_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- At most one owner per organization...
CREATE UNIQUE INDEX "memberships_one_owner" ON "memberships"("organization_id") WHERE "role" = 'OWNER';

-- ...and, once it has one, never none: checked at commit, so a transfer can demote
-- the old owner and promote the new one in either order. Deleting the whole
-- organization is allowed.
CREATE FUNCTION app.memberships_keep_owner() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM organizations o WHERE o.id = OLD.organization_id)
     AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = OLD.organization_id AND m.role = 'OWNER') THEN
    RAISE EXCEPTION 'organization % must keep exactly one owner', OLD.organization_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_keep_owner';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER memberships_keep_owner AFTER UPDATE OR DELETE ON "memberships"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.role = 'OWNER')
  EXECUTE FUNCTION app.memberships_keep_owner();

-- Department-restricted projects ------------------------------------------------

ALTER TABLE "projects" ADD COLUMN "restricted_to_department_id" UUID;
CREATE INDEX "projects_organization_id_restricted_to_department_id_idx" ON "projects"("organization_id", "restricted_to_department_id");
ALTER TABLE "projects" ADD CONSTRAINT "projects_organization_id_restricted_to_department_id_fkey" FOREIGN KEY ("organization_id", "restricted_to_department_id") REFERENCES "departments"("organization_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A restricted project exists only for owners, admins and the members of its
-- department or of the department's descendants. RESTRICTIVE: it narrows the
-- tenant policy, it can never widen it. No subquery: the caller's department
-- path comes from the request settings.
CREATE POLICY department_restriction ON "projects" AS RESTRICTIVE
  USING ("restricted_to_department_id" IS NULL
         OR app.current_member_role() IN ('OWNER', 'ADMIN')
         OR "restricted_to_department_id" = ANY (app.current_department_path()))
  WITH CHECK ("restricted_to_department_id" IS NULL
         OR app.current_member_role() IN ('OWNER', 'ADMIN')
         OR "restricted_to_department_id" = ANY (app.current_department_path()));

-- Row-level security for the new tenant tables -----------------------------------

ALTER TABLE "subscriptions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "subscriptions" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "subscriptions"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "organization_domains" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "organization_domains" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "organization_domains"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "organization_secrets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "organization_secrets" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "organization_secrets"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

ALTER TABLE "departments" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "departments" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "departments"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

GRANT SELECT ON "subscriptions", "organization_domains" TO tenantgate_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON "departments" TO tenantgate_runtime;
GRANT SELECT ("organization_id", "name", "masked", "updated_at") ON "organization_secrets" TO tenantgate_runtime;
GRANT INSERT ("organization_id", "name", "value", "masked", "updated_at") ON "organization_secrets" TO tenantgate_runtime;
GRANT UPDATE ("value", "masked", "updated_at") ON "organization_secrets" TO tenantgate_runtime;
GRANT DELETE ON "organization_secrets" TO tenantgate_runtime;

-- The platform operator's scope ---------------------------------------------------

-- Who may act across organizations. Not an organization role: a separate list
-- that only the admin role writes. A token's platform claim counts only for a
-- user listed here.
CREATE TABLE "platform_operators" (
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "platform_operators_pkey" PRIMARY KEY ("user_id")
);
ALTER TABLE "platform_operators" ADD CONSTRAINT "platform_operators_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every platform action: who, what, on which organization, and why. Platform
-- data, not tenant data: no tenant reads it and it outlives the organization,
-- hence subject_organization_id without a foreign key.
CREATE TABLE "platform_audit_log" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "actor_user_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "subject_organization_id" UUID,
    "reason" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "platform_audit_log_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "platform_audit_log_reason_given" CHECK (length(btrim("reason")) > 0)
);
CREATE INDEX "platform_audit_log_subject_organization_id_created_at_idx" ON "platform_audit_log"("subject_organization_id", "created_at" DESC);

ALTER TABLE "platform_operators" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "platform_operators" FORCE ROW LEVEL SECURITY;
ALTER TABLE "platform_audit_log" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "platform_audit_log" FORCE ROW LEVEL SECURITY;
-- No policies and no grants: only the admin role (which bypasses RLS) reads or writes them.

-- Whether a user is a platform operator; the only thing the runtime role may learn of the list.
CREATE FUNCTION app.is_platform_operator(p_user_id uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT 1 FROM platform_operators WHERE user_id = p_user_id) $$;
REVOKE ALL ON FUNCTION app.is_platform_operator(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.is_platform_operator(uuid) TO tenantgate_runtime;

-- The organizations of the request's user (viewer.organizations): the one read
-- across tenants that a member may make, and only of its own memberships.
CREATE FUNCTION app.my_organizations() RETURNS TABLE (organization_id uuid, slug text, name text, role "Role", joined_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT o.id, o.slug, o.name, m.role, m.created_at
      FROM memberships m JOIN organizations o ON o.id = m.organization_id
     WHERE m.user_id = app.current_user_id()
     ORDER BY o.name
  $$;
REVOKE ALL ON FUNCTION app.my_organizations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.my_organizations() TO tenantgate_runtime;

-- addMember's "find or create the user by email". Users of other organizations
-- are invisible to the runtime role, so this is the one way to reach them, and
-- it tells the caller nothing but an id.
CREATE FUNCTION app.ensure_user(p_email text, p_name text) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
DECLARE
  v_id uuid;
BEGIN
  INSERT INTO users (id, email, name) VALUES (gen_random_uuid(), lower(p_email), p_name)
    ON CONFLICT (email) DO NOTHING
    RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT id INTO v_id FROM users WHERE email = lower(p_email);
  END IF;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.ensure_user(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.ensure_user(text, text) TO tenantgate_runtime;
