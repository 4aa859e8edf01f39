-- Cross-organization sharing (issue 15), enforced by PostgreSQL.
--
-- A shareable table gets (app.make_shareable):
--   visibility            PRIVATE (default) | SHARED | PUBLIC
--   shared_read_org_ids   organizations granted READ (or READ and WRITE)
--   shared_write_org_ids  organizations granted WRITE
-- The arrays are a copy of share_grants, kept by triggers in the transaction
-- that changes a grant, so that the policies read the row alone: no subquery
-- (Citus refuses them in policies of distributed tables, and test/catalog.test.ts
-- checks it). A grant counts while the row is not PRIVATE; PUBLIC rows are
-- readable by every organization. Only the owning organization deletes, and
-- only its OWNER or ADMIN changes visibility or grants; a WRITE grantee changes
-- only the columns the table declared shared.

CREATE TYPE "Visibility" AS ENUM ('PRIVATE', 'SHARED', 'PUBLIC');

-- Which tables are shareable, and the columns a WRITE grant may change.
CREATE TABLE app.shareable_tables (
  table_name TEXT PRIMARY KEY,
  writable_columns TEXT[] NOT NULL
);
GRANT SELECT ON app.shareable_tables TO tenantgate_runtime;

CREATE TABLE "share_grants" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "resource" TEXT NOT NULL REFERENCES app.shareable_tables (table_name),
    "resource_id" UUID NOT NULL,
    "grantee_id" UUID NOT NULL,
    "can_write" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "share_grants_pkey" PRIMARY KEY ("organization_id", "resource", "resource_id", "grantee_id"),
    CONSTRAINT "share_grants_not_to_self" CHECK ("grantee_id" <> "organization_id")
);
ALTER TABLE "share_grants" ADD CONSTRAINT "share_grants_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE;
ALTER TABLE "share_grants" ADD CONSTRAINT "share_grants_grantee_id_fkey" FOREIGN KEY ("grantee_id") REFERENCES "organizations"("id") ON DELETE CASCADE;
-- A deleted grantee's grants go with it (the foreign key above): its index.
CREATE INDEX "share_grants_grantee_id_idx" ON "share_grants" ("grantee_id");

ALTER TABLE "share_grants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "share_grants" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "share_grants"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
-- Granting is for the owning organization's OWNER and ADMIN; members read grants.
CREATE POLICY owners_and_admins_grant ON "share_grants" AS RESTRICTIVE FOR INSERT
  WITH CHECK (app.current_member_role() IN ('OWNER', 'ADMIN'));
CREATE POLICY owners_and_admins_update ON "share_grants" AS RESTRICTIVE FOR UPDATE
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));
CREATE POLICY owners_and_admins_revoke ON "share_grants" AS RESTRICTIVE FOR DELETE
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));
GRANT SELECT, INSERT, UPDATE, DELETE ON "share_grants" TO tenantgate_runtime;

-- Copies a row's grants into its arrays. SECURITY DEFINER: the arrays are not
-- the runtime role's to write (app.shareable_guard refuses it at trigger depth 1).
CREATE FUNCTION app.share_grants_sync() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    g share_grants := coalesce(NEW, OLD);
    changed bigint;
  BEGIN
    EXECUTE format(
      'UPDATE %I SET shared_read_org_ids = coalesce((SELECT array_agg(grantee_id ORDER BY grantee_id) FROM share_grants WHERE organization_id = $1 AND resource = $2 AND resource_id = $3), ''{}''),
                     shared_write_org_ids = coalesce((SELECT array_agg(grantee_id ORDER BY grantee_id) FROM share_grants WHERE organization_id = $1 AND resource = $2 AND resource_id = $3 AND can_write), ''{}'')
        WHERE organization_id = $1 AND id = $3', g.resource)
      USING g.organization_id, g.resource, g.resource_id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 AND TG_OP <> 'DELETE' THEN
      RAISE EXCEPTION 'share_grants: no % row % in the organization', g.resource, g.resource_id USING ERRCODE = 'P0002';
    END IF;
    RETURN NULL;
  END;
  $$;
REVOKE ALL ON FUNCTION app.share_grants_sync() FROM PUBLIC;
CREATE TRIGGER share_grants_sync AFTER INSERT OR UPDATE OR DELETE ON "share_grants"
  FOR EACH ROW EXECUTE FUNCTION app.share_grants_sync();

-- On a shareable table: the arrays change only through share_grants (trigger
-- depth 2, from share_grants_sync); visibility only by the owning organization's
-- OWNER or ADMIN; another organization (a WRITE grantee: RLS let it this far)
-- changes only the table's writable columns.
CREATE FUNCTION app.shareable_guard() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
  DECLARE
    writable text[];
  BEGIN
    IF TG_OP = 'INSERT' THEN
      IF cardinality(NEW.shared_read_org_ids) > 0 OR cardinality(NEW.shared_write_org_ids) > 0 THEN
        RAISE EXCEPTION 'grants are made through share_grants' USING ERRCODE = '42501';
      END IF;
      IF NEW.visibility <> 'PRIVATE' AND app.current_member_role() IS DISTINCT FROM 'OWNER' AND app.current_member_role() IS DISTINCT FROM 'ADMIN'
         AND app.current_org_id() IS NOT NULL THEN
        RAISE EXCEPTION 'only an OWNER or ADMIN sets visibility' USING ERRCODE = '42501';
      END IF;
      RETURN NEW;
    END IF;
    IF pg_trigger_depth() < 2 AND (NEW.shared_read_org_ids IS DISTINCT FROM OLD.shared_read_org_ids
                                   OR NEW.shared_write_org_ids IS DISTINCT FROM OLD.shared_write_org_ids) THEN
      RAISE EXCEPTION 'grants are made through share_grants' USING ERRCODE = '42501';
    END IF;
    IF app.current_org_id() IS DISTINCT FROM OLD.organization_id AND app.current_org_id() IS NOT NULL THEN
      SELECT writable_columns INTO writable FROM app.shareable_tables WHERE table_name = TG_TABLE_NAME;
      IF (to_jsonb(NEW) - writable - 'updated_at') IS DISTINCT FROM (to_jsonb(OLD) - writable - 'updated_at') THEN
        RAISE EXCEPTION 'a WRITE grant changes only %', array_to_string(writable, ', ') USING ERRCODE = '42501';
      END IF;
    ELSIF NEW.visibility IS DISTINCT FROM OLD.visibility AND app.current_org_id() IS NOT NULL
          AND app.current_member_role() IS DISTINCT FROM 'OWNER' AND app.current_member_role() IS DISTINCT FROM 'ADMIN' THEN
      RAISE EXCEPTION 'only an OWNER or ADMIN changes visibility' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
  END;
  $$;

-- A deleted row's grants go with it.
CREATE FUNCTION app.shareable_drop_grants() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  BEGIN
    DELETE FROM share_grants WHERE organization_id = OLD.organization_id AND resource = TG_TABLE_NAME AND resource_id = OLD.id;
    RETURN NULL;
  END;
  $$;
REVOKE ALL ON FUNCTION app.shareable_drop_grants() FROM PUBLIC;

-- Makes a tenant table (organization_id, id, created_at) shareable: columns,
-- guard, policies and indexes. `writable` are the columns a WRITE grant may change.
CREATE FUNCTION app.make_shareable(p_table regclass, p_writable text[]) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
  DECLARE
    t text := p_table::text;
  BEGIN
    INSERT INTO app.shareable_tables (table_name, writable_columns) VALUES (t, p_writable);
    EXECUTE format('ALTER TABLE %I ADD COLUMN visibility "Visibility" NOT NULL DEFAULT ''PRIVATE'',
                      ADD COLUMN shared_read_org_ids uuid[] NOT NULL DEFAULT ''{}'',
                      ADD COLUMN shared_write_org_ids uuid[] NOT NULL DEFAULT ''{}''', t);
    EXECUTE format('CREATE TRIGGER shareable_guard BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION app.shareable_guard()', t);
    EXECUTE format('CREATE TRIGGER shareable_drop_grants AFTER DELETE ON %I FOR EACH ROW EXECUTE FUNCTION app.shareable_drop_grants()', t);
    -- Permissive: they add to tenant_isolation (own rows, every command). The
    -- @> operator, not = ANY, so that the GIN index below serves the lookup.
    EXECUTE format('CREATE POLICY shared_read ON %I FOR SELECT USING (
        organization_id = app.current_org_id()
        OR (visibility <> ''PRIVATE'' AND shared_read_org_ids @> ARRAY[app.current_org_id()])
        OR (visibility = ''PUBLIC'' AND app.current_org_id() IS NOT NULL))', t);
    EXECUTE format('CREATE POLICY shared_write ON %I FOR UPDATE
        USING (organization_id = app.current_org_id() OR (visibility <> ''PRIVATE'' AND shared_write_org_ids @> ARRAY[app.current_org_id()]))
        WITH CHECK (organization_id = app.current_org_id() OR (visibility <> ''PRIVATE'' AND shared_write_org_ids @> ARRAY[app.current_org_id()]))', t);
    -- PERF: the three arms of scope ALL each have an index (a BitmapOr): the own
    -- rows the table's (organization_id, created_at) index, the shared ones this
    -- GIN index, the public ones the partial index. The last two lead with
    -- something else than organization_id on purpose: they are the cross-tenant lookups.
    EXECUTE format('CREATE INDEX %I ON %I USING gin (shared_read_org_ids) WHERE visibility <> ''PRIVATE''', t || '_shared_read_org_ids_idx', t);
    EXECUTE format('CREATE INDEX %I ON %I (created_at DESC, id DESC) WHERE visibility = ''PUBLIC''', t || '_public_idx', t);
  END;
  $$;
REVOKE ALL ON FUNCTION app.make_shareable(regclass, text[]) FROM PUBLIC;

SELECT app.make_shareable('projects', ARRAY['name', 'status']);
-- A department-restricted project stays inside its department: it cannot be shared.
ALTER TABLE "projects" ADD CONSTRAINT "projects_restricted_not_shared"
  CHECK ("restricted_to_department_id" IS NULL OR ("visibility" = 'PRIVATE' AND "shared_read_org_ids" = '{}'));

-- Templates: the demo dataset's shareable model beside projects.
CREATE TABLE "templates" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "templates_pkey" PRIMARY KEY ("organization_id", "id")
);
CREATE INDEX "templates_organization_id_created_at_id_idx" ON "templates" ("organization_id", "created_at" DESC, "id" DESC);
ALTER TABLE "templates" ADD CONSTRAINT "templates_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE;
ALTER TABLE "templates" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "templates" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "templates"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON "templates" TO tenantgate_runtime;
SELECT app.make_shareable('templates', ARRAY['name', 'description']);
