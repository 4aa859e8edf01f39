-- tenantgate: a version counter per organization for the gateway's access cache
-- (src/auth/access-cache.ts, docs/adr/0080-access-check-cached-by-version.md).
--
-- What app.request_access() reads about a member (membership, role, department
-- path, the organization and its settings, its plan and API_CALLS quota) only
-- changes when one of these rows changes; each such change bumps the
-- organization's counter in the same transaction. A request whose cached access
-- carries the current counter skips the function: it reads this one row (an
-- index scan) in the message that begins its transaction, and a request that
-- finds the counter moved runs the full check. A row is read in a snapshot
-- taken after the change committed, so "the very next request sees it".
--
-- RLS: a tenant table; the runtime role reads its own organization's row and
-- writes nothing (the triggers run as the owner).

CREATE TABLE "access_versions" (
  "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
  "version" BIGINT NOT NULL DEFAULT 0,
  CONSTRAINT "access_versions_pkey" PRIMARY KEY ("organization_id"),
  CONSTRAINT "access_versions_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
);
ALTER TABLE "access_versions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "access_versions" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "access_versions"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
GRANT SELECT ON "access_versions" TO tenantgate_runtime;

INSERT INTO "access_versions" ("organization_id") SELECT "id" FROM "organizations" ON CONFLICT DO NOTHING;

-- One function for every table: the organization is the row's organization_id
-- (id for organizations). A statement on plan_limits (same for everyone) bumps all.
CREATE FUNCTION app.bump_access_version() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  org uuid;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    UPDATE access_versions SET version = version + 1;
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'organizations' THEN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO access_versions (organization_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN NULL; -- its row goes with it (ON DELETE CASCADE)
    END IF;
    org := NEW.id;
  ELSIF TG_OP = 'DELETE' THEN
    org := OLD.organization_id;
  ELSE
    org := NEW.organization_id;
    IF TG_OP = 'UPDATE' AND OLD.organization_id IS DISTINCT FROM NEW.organization_id THEN
      UPDATE access_versions SET version = version + 1 WHERE organization_id = OLD.organization_id;
    END IF;
  END IF;
  UPDATE access_versions SET version = version + 1 WHERE organization_id = org;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.bump_access_version() FROM PUBLIC;

CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE ON "organizations"
  FOR EACH ROW EXECUTE FUNCTION app.bump_access_version();
CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE ON "memberships"
  FOR EACH ROW EXECUTE FUNCTION app.bump_access_version();
CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE ON "departments"
  FOR EACH ROW EXECUTE FUNCTION app.bump_access_version();
CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE ON "subscriptions"
  FOR EACH ROW EXECUTE FUNCTION app.bump_access_version();
CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE ON "quota_overrides"
  FOR EACH ROW EXECUTE FUNCTION app.bump_access_version();
CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "plan_limits"
  FOR EACH STATEMENT EXECUTE FUNCTION app.bump_access_version();
