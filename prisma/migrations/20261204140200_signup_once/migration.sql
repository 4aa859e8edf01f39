-- completeSignUp creates an organization only for a user with none: checked
-- under a per-user lock, so two concurrent sign-ups cannot make two.
-- Replaces app.create_signup_organization of 20261204140100.
CREATE OR REPLACE FUNCTION app.create_signup_organization(p_name text, p_slug text) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_user uuid := app.current_user_id();
  v_org uuid := gen_random_uuid();
BEGIN
  IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM users WHERE id = v_user) THEN
    RAISE EXCEPTION 'no signed-in user' USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('signup:' || v_user::text, 0));
  IF EXISTS (SELECT 1 FROM memberships WHERE user_id = v_user) THEN
    RAISE EXCEPTION 'the user already belongs to an organization' USING ERRCODE = 'unique_violation', CONSTRAINT = 'signup_once';
  END IF;
  INSERT INTO organizations (id, slug, name, updated_at) VALUES (v_org, p_slug, p_name, now());
  INSERT INTO subscriptions (organization_id) VALUES (v_org);
  INSERT INTO memberships (organization_id, user_id, role) VALUES (v_org, v_user, 'OWNER');
  PERFORM app.record_event(v_org, 'member.joined', 'user', v_user::text, jsonb_build_object('userId', v_user, 'role', 'OWNER', 'via', 'signup'), true);
  RETURN v_org;
END
$$;
