-- Per-organization file storage (issue 15). The bytes live in a storage backend
-- (local file system or S3) at organizations/<organization id>/files/<path>;
-- this table is their index: what exists, its size, type and checksum. Every
-- read of a file goes through a row here, so RLS decides who reaches a file.

CREATE TABLE "files" (
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    -- Byte order ("C"): a prefix filter is an index range scan.
    "path" TEXT COLLATE "C" NOT NULL,
    -- UPLOADING: reserved (size is the bytes reserved against the STORAGE quota);
    -- READY: stored (size is the file's).
    "status" TEXT NOT NULL DEFAULT 'UPLOADING',
    "size" BIGINT NOT NULL,
    "content_type" TEXT NOT NULL,
    -- SHA-256 of the content, hex; set when the upload completes.
    "checksum" TEXT,
    "uploaded_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "files_pkey" PRIMARY KEY ("organization_id", "path"),
    CONSTRAINT "files_status_check" CHECK ("status" IN ('UPLOADING', 'READY')),
    CONSTRAINT "files_size_not_negative" CHECK ("size" >= 0),
    CONSTRAINT "files_ready_has_checksum" CHECK ("status" = 'UPLOADING' OR "checksum" IS NOT NULL)
);
ALTER TABLE "files" ADD CONSTRAINT "files_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "files" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "files" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "files"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON "files" TO tenantgate_runtime;

-- storage_usage follows the files table in the same transaction: a reservation
-- counts at once (the STORAGE quota's race-freedom rests on it), its completion
-- corrects it to the real size, a delete gives it back. SECURITY DEFINER: the
-- runtime role only reads storage_usage, it never writes a figure of its own.
CREATE FUNCTION app.files_track_storage() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    org uuid := coalesce(NEW.organization_id, OLD.organization_id);
    delta bigint := coalesce(NEW.size, 0) - coalesce(OLD.size, 0);
  BEGIN
    IF TG_OP = 'UPDATE' AND NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
      RAISE EXCEPTION 'files: organization_id cannot change';
    END IF;
    IF delta <> 0 THEN
      INSERT INTO storage_usage AS su (organization_id, bytes, updated_at) VALUES (org, greatest(delta, 0), now())
        ON CONFLICT (organization_id) DO UPDATE SET bytes = greatest(su.bytes + delta, 0), updated_at = now();
    END IF;
    RETURN NULL;
  END;
  $$;
REVOKE ALL ON FUNCTION app.files_track_storage() FROM PUBLIC;
CREATE TRIGGER files_track_storage AFTER INSERT OR UPDATE OF size OR DELETE ON "files"
  FOR EACH ROW EXECUTE FUNCTION app.files_track_storage();

-- The largest single file per plan: an upload that declares more is refused
-- before its body is read. Platform data, like plan_limits.
CREATE TABLE "plan_upload_limits" (
    "plan" "Plan" NOT NULL,
    "max_file_bytes" BIGINT NOT NULL,
    CONSTRAINT "plan_upload_limits_pkey" PRIMARY KEY ("plan"),
    CONSTRAINT "plan_upload_limits_positive" CHECK ("max_file_bytes" > 0)
);
INSERT INTO "plan_upload_limits" ("plan", "max_file_bytes") VALUES
  ('FREE', 104857600),        -- 100 MB
  ('PRO', 2147483648),        -- 2 GB
  ('ENTERPRISE', 5368709120); -- 5 GB
GRANT SELECT ON "plan_upload_limits" TO tenantgate_runtime;
