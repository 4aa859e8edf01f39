-- share / unshare by organization slug (issue 15). SECURITY DEFINER so that a
-- slug turns into an organization id inside the database: the caller never
-- learns another organization's id, nor whether a slug exists (unknown slugs
-- are skipped silently, the answer is the same). The checks RLS would make are
-- explicit here, since the function bypasses it: the caller is an OWNER or ADMIN
-- of the current organization, and the row is that organization's.

CREATE FUNCTION app.share(p_resource text, p_id uuid, p_slugs text[], p_can_write boolean) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    org uuid := app.current_org_id();
    found_row boolean;
  BEGIN
    IF org IS NULL OR app.current_member_role() IS DISTINCT FROM 'OWNER' AND app.current_member_role() IS DISTINCT FROM 'ADMIN' THEN
      RAISE EXCEPTION 'only an OWNER or ADMIN shares' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM app.shareable_tables WHERE table_name = p_resource) THEN
      RAISE EXCEPTION 'not shareable: %', p_resource USING ERRCODE = '22023';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE organization_id = $1 AND id = $2)', p_resource) INTO found_row USING org, p_id;
    IF NOT found_row THEN
      RETURN false;
    END IF;
    INSERT INTO share_grants (organization_id, resource, resource_id, grantee_id, can_write)
      SELECT org, p_resource, p_id, o.id, p_can_write FROM organizations o WHERE o.slug = ANY (p_slugs) AND o.id <> org
      ON CONFLICT (organization_id, resource, resource_id, grantee_id) DO UPDATE SET can_write = EXCLUDED.can_write;
    EXECUTE format('UPDATE %I SET visibility = ''SHARED'' WHERE organization_id = $1 AND id = $2 AND visibility = ''PRIVATE''', p_resource) USING org, p_id;
    RETURN true;
  END;
  $$;

CREATE FUNCTION app.unshare(p_resource text, p_id uuid, p_slugs text[]) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    org uuid := app.current_org_id();
    found_row boolean;
  BEGIN
    IF org IS NULL OR app.current_member_role() IS DISTINCT FROM 'OWNER' AND app.current_member_role() IS DISTINCT FROM 'ADMIN' THEN
      RAISE EXCEPTION 'only an OWNER or ADMIN unshares' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM app.shareable_tables WHERE table_name = p_resource) THEN
      RAISE EXCEPTION 'not shareable: %', p_resource USING ERRCODE = '22023';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE organization_id = $1 AND id = $2)', p_resource) INTO found_row USING org, p_id;
    IF NOT found_row THEN
      RETURN false;
    END IF;
    DELETE FROM share_grants g USING organizations o
     WHERE g.organization_id = org AND g.resource = p_resource AND g.resource_id = p_id AND g.grantee_id = o.id AND o.slug = ANY (p_slugs);
    RETURN true;
  END;
  $$;

REVOKE ALL ON FUNCTION app.share(text, uuid, text[], boolean), app.unshare(text, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.share(text, uuid, text[], boolean), app.unshare(text, uuid, text[]) TO tenantgate_runtime;
