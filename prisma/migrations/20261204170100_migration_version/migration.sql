-- The latest applied migration, for GET /readyz: the runtime role reads no
-- table of the migration runner, only this one value.
CREATE FUNCTION app.migration_version() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT max(migration_name)::text FROM "_prisma_migrations"
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
  $$;

REVOKE ALL ON FUNCTION app.migration_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.migration_version() TO tenantgate_runtime;
