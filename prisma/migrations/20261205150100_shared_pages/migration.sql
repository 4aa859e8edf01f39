-- Sharing, the read side (issue 15): lists of other organizations' rows
-- (scope SHARED, PUBLIC, ALL) and lookups by global ID that use indexes under RLS.
--
-- Under RLS the planner may use a query's own predicate as an index condition
-- only when its operator is leakproof (it would otherwise run before the
-- policy, on rows the caller may not see). uuid = and timestamptz < are;
-- the array containment @> and enum = are not. So the page is three
-- index-ordered branches (docs/adr/0052-scope-all-page-plan.md):
--   own:    organization_id = $org              (organization_id, created_at, id) index
--   public: visibility = 'PUBLIC'               the partial index projects_public_idx, proved
--                                                 from the predicate (no operator evaluated)
--   shared: app.shared_row_keys(table)          the GIN index with @> as its condition, read
--                                                 as the definer; the rows themselves are then
--                                                 read through RLS, which still decides.

-- The keys of the rows another organization shared with the current one: what
-- the shared_read policy's second arm admits, nothing more (the same predicate),
-- so it tells the caller nothing RLS would not show. SECURITY DEFINER because
-- the policy's OR keeps @> from being an index condition for the runtime role.
CREATE FUNCTION app.shared_row_keys(p_table text)
  RETURNS TABLE (organization_id uuid, id uuid, created_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 100 SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    org uuid := app.current_org_id();
  BEGIN
    IF org IS NULL THEN
      RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM app.shareable_tables s WHERE s.table_name = p_table) THEN
      RAISE EXCEPTION 'not shareable: %', p_table USING ERRCODE = '22023';
    END IF;
    RETURN QUERY EXECUTE format(
      'SELECT t.organization_id, t.id, t.created_at::timestamptz FROM %I t
        WHERE t.visibility <> ''PRIVATE'' AND t.shared_read_org_ids @> ARRAY[$1] AND t.organization_id <> $1', p_table)
      USING org;
  END;
  $$;
REVOKE ALL ON FUNCTION app.shared_row_keys(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.shared_row_keys(text) TO tenantgate_runtime;

-- A global ID carries the row's id, not its organization: get-by-id and node(id)
-- of a shared or public row look it up by id alone (uuid =, leakproof: an index
-- condition under RLS, which then decides whether the caller sees it).
CREATE INDEX "projects_id_idx" ON "projects" ("id");
CREATE INDEX "templates_id_idx" ON "templates" ("id");

-- Whose a row is, as the API shows it: the owning organization's slug and name
-- (nothing more), for rows the caller may read under the shared_read policy's
-- arms; any other id gets no answer. SECURITY DEFINER because the organizations
-- policy shows only the caller's own organization.
CREATE FUNCTION app.row_owners(p_table text, p_ids uuid[])
  RETURNS TABLE (id uuid, slug text, name text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    org uuid := app.current_org_id();
  BEGIN
    IF org IS NULL THEN
      RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM app.shareable_tables s WHERE s.table_name = p_table) THEN
      RAISE EXCEPTION 'not shareable: %', p_table USING ERRCODE = '22023';
    END IF;
    RETURN QUERY EXECUTE format(
      'SELECT t.id, o.slug, o.name FROM %I t JOIN organizations o ON o.id = t.organization_id
        WHERE t.id = ANY ($2)
          AND (t.organization_id = $1 OR (t.visibility <> ''PRIVATE'' AND t.shared_read_org_ids @> ARRAY[$1]) OR t.visibility = ''PUBLIC'')', p_table)
      USING org, p_ids;
  END;
  $$;
REVOKE ALL ON FUNCTION app.row_owners(text, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.row_owners(text, uuid[]) TO tenantgate_runtime;
