-- The two triggers that refuse a write raise SQLSTATEs of their own, so that the
-- gateway knows them without reading their message: @prisma/adapter-pg passes the
-- SQLSTATE of any error on, but the constraint name only for unique, foreign-key
-- and not-null violations (src/db/database-errors.ts maps both codes).
--   TG001  memberships_keep_owner: an organization must keep exactly one owner
--   TG002  departments_no_cycle: a department cannot move under its own descendant
-- Same bodies as in 20261127010000_organizations_members_departments otherwise.

CREATE OR REPLACE FUNCTION app.departments_no_cycle() RETURNS trigger
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
      USING ERRCODE = 'TG002', CONSTRAINT = 'departments_no_cycle';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION app.memberships_keep_owner() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM organizations o WHERE o.id = OLD.organization_id)
     AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = OLD.organization_id AND m.role = 'OWNER') THEN
    RAISE EXCEPTION 'organization % must keep exactly one owner', OLD.organization_id
      USING ERRCODE = 'TG001', CONSTRAINT = 'memberships_keep_owner';
  END IF;
  RETURN NULL;
END
$$;
