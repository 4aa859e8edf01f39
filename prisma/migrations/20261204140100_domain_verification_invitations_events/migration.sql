-- tenantgate: verified domains, invitations, signup routing and stored events
-- (issue 14).

-- Domain verification ---------------------------------------------------------

-- One row per (organization, domain) as before; a claim is unverified until a
-- proof (DNS TXT record, HTTP file, or an emailed link) is seen. The token is
-- shown to the organization's admins (it goes into their DNS or web server),
-- so it is stored as is; the emailed link's token is a secret and only its
-- sha256 is kept.
ALTER TABLE "organization_domains"
  ADD COLUMN "verification_token" TEXT NOT NULL DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
  ADD COLUMN "token_expires_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP + interval '7 days',
  ADD COLUMN "verified_method" TEXT,
  ADD COLUMN "email_token_hash" TEXT,
  ADD COLUMN "email_sent_to" TEXT,
  ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "attempts_window_start" TIMESTAMPTZ(3),
  ADD COLUMN "last_checked_at" TIMESTAMPTZ(3),
  ADD COLUMN "proof_lost_at" TIMESTAMPTZ(3),
  -- Signup routing: people with a verified email of this domain join the
  -- organization with this role (when the domain is verified).
  ADD COLUMN "joining" BOOLEAN NOT NULL DEFAULT true,
  ADD COLUMN "join_role" "Role" NOT NULL DEFAULT 'MEMBER',
  ADD CONSTRAINT "organization_domains_verified_method" CHECK ("verified_method" IN ('DNS', 'HTTP', 'EMAIL')),
  ADD CONSTRAINT "organization_domains_join_role" CHECK ("join_role" <> 'OWNER');

-- The first verified wins: at most one organization holds a domain verified.
-- Unverified claims are not in the index, so they block nobody.
CREATE UNIQUE INDEX "organization_domains_verified_once" ON "organization_domains"("domain") WHERE "verified";
CREATE UNIQUE INDEX "organization_domains_email_token_hash" ON "organization_domains"("email_token_hash") WHERE "email_token_hash" IS NOT NULL;

GRANT UPDATE ("verification_token", "token_expires_at", "verified", "verified_at", "verified_method", "email_token_hash",
              "email_sent_to", "attempts", "attempts_window_start", "last_checked_at", "proof_lost_at", "joining", "join_role")
  ON "organization_domains" TO tenantgate_runtime;
GRANT DELETE ON "organization_domains" TO tenantgate_runtime;

-- Events go to the outbox of migration 20261204160100_events, through app.record_event()
-- (resolved when these functions run, not when they are created).

-- Invitations --------------------------------------------------------------------

CREATE TYPE "InvitationStatus" AS ENUM ('PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED');

CREATE TABLE "invitations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "organization_id" UUID NOT NULL DEFAULT app.current_org_id(),
    "email" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'MEMBER',
    "department_id" UUID,
    -- sha256 hex of the token in the invitation's link: the token itself is never stored.
    "token_hash" TEXT NOT NULL,
    "inviter_id" UUID NOT NULL,
    "status" "InvitationStatus" NOT NULL DEFAULT 'PENDING',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "responded_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "invitations_pkey" PRIMARY KEY ("organization_id", "id"),
    CONSTRAINT "invitations_email_format" CHECK ("email" = lower("email") AND length("email") <= 254 AND "email" LIKE '_%@_%'),
    CONSTRAINT "invitations_role" CHECK ("role" <> 'OWNER')
);
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations"("token_hash");
-- One pending invitation per person and organization: inviting again resends.
CREATE UNIQUE INDEX "invitations_one_pending" ON "invitations"("organization_id", "email") WHERE "status" = 'PENDING';
CREATE INDEX "invitations_organization_id_status_created_at_idx" ON "invitations"("organization_id", "status", "created_at" DESC);
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_inviter_id_fkey" FOREIGN KEY ("inviter_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- A deleted department leaves the invitation without one.
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_organization_id_department_id_fkey" FOREIGN KEY ("organization_id", "department_id") REFERENCES "departments"("organization_id", "id") ON DELETE SET NULL ("department_id") ON UPDATE CASCADE;
ALTER TABLE "invitations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "invitations" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "invitations"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
GRANT SELECT ON "invitations" TO tenantgate_runtime;
-- organization_id: RLS's WITH CHECK refuses any but the transaction's own.
GRANT INSERT ("id", "organization_id", "email", "role", "department_id", "token_hash", "inviter_id", "status", "expires_at", "sent_at", "created_at") ON "invitations" TO tenantgate_runtime;
GRANT UPDATE ("role", "department_id", "token_hash", "status", "expires_at", "sent_at", "responded_at") ON "invitations" TO tenantgate_runtime;

-- Reads across tenants, each for one purpose, telling only what it must ---------

-- The invitation a link's token names. Knowing the token is the capability
-- (it was mailed to the invitee); the caller still has to be signed in with
-- the invitation's email before anything happens.
CREATE FUNCTION app.invitation_by_token(p_token_hash text)
  RETURNS TABLE (organization_id uuid, id uuid, email text, role "Role", status "InvitationStatus", expires_at timestamptz, organization_name text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT i.organization_id, i.id, i.email, i.role, i.status, i.expires_at, o.name
      FROM invitations i JOIN organizations o ON o.id = i.organization_id
     WHERE i.token_hash = p_token_hash
  $$;
REVOKE ALL ON FUNCTION app.invitation_by_token(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.invitation_by_token(text) TO tenantgate_runtime;

-- The organization that holds a domain verified, with its joining rule and
-- whether it enforces SSO: signup routing, suggestions and ssoRoute.
CREATE FUNCTION app.verified_domain_owner(p_domain text)
  RETURNS TABLE (organization_id uuid, slug text, name text, joining boolean, join_role "Role", enforce_sso boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT o.id, o.slug, o.name, d.joining, d.join_role, coalesce((o.settings #>> '{security,enforceSSO}')::boolean, false)
      FROM organization_domains d JOIN organizations o ON o.id = d.organization_id
     WHERE d.domain = lower(p_domain) AND d.verified
  $$;
REVOKE ALL ON FUNCTION app.verified_domain_owner(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.verified_domain_owner(text) TO tenantgate_runtime;

-- The user of a signed-in person, created on first use with the token's
-- subject as its id. An email already held by another id is refused
-- (users.email is unique): the person must sign in as that account.
CREATE FUNCTION app.ensure_signed_in_user(p_email text, p_name text) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_user uuid := app.current_user_id();
  v_email text;
BEGIN
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'no signed-in user' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO users (id, email, name) VALUES (v_user, lower(p_email), p_name) ON CONFLICT DO NOTHING;
  SELECT email INTO v_email FROM users WHERE id = v_user;
  IF v_email IS DISTINCT FROM lower(p_email) THEN
    RAISE EXCEPTION 'the email belongs to another account' USING ERRCODE = 'TG003', CONSTRAINT = 'users_email_other_account';
  END IF;
  RETURN v_user;
END
$$;
REVOKE ALL ON FUNCTION app.ensure_signed_in_user(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.ensure_signed_in_user(text, text) TO tenantgate_runtime;

-- completeSignUp's new organization, with the signed-in user as its OWNER, on
-- FREE, and its member.joined event. The runtime role may not insert
-- organizations: this is the one way it can create one.
CREATE FUNCTION app.create_signup_organization(p_name text, p_slug text) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_user uuid := app.current_user_id();
  v_org uuid := gen_random_uuid();
BEGIN
  IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM users WHERE id = v_user) THEN
    RAISE EXCEPTION 'no signed-in user' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO organizations (id, slug, name, updated_at) VALUES (v_org, p_slug, p_name, now());
  INSERT INTO subscriptions (organization_id) VALUES (v_org);
  INSERT INTO memberships (organization_id, user_id, role) VALUES (v_org, v_user, 'OWNER');
  PERFORM app.record_event(v_org, 'member.joined', 'user', v_user::text, jsonb_build_object('userId', v_user, 'role', 'OWNER', 'via', 'signup'), true);
  RETURN v_org;
END
$$;
REVOKE ALL ON FUNCTION app.create_signup_organization(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.create_signup_organization(text, text) TO tenantgate_runtime;

-- The emailed domain-verification link: the link's token (its sha256) is the
-- proof, so this runs for anyone who holds it. Returns the domain and the
-- outcome: 'verified', 'expired', 'held' (another organization verified it
-- first) or nothing when no claim has this token.
CREATE FUNCTION app.confirm_domain_email(p_token_hash text)
  RETURNS TABLE (domain text, outcome text)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_row organization_domains%ROWTYPE;
BEGIN
  SELECT * INTO v_row FROM organization_domains d WHERE d.email_token_hash = p_token_hash FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF v_row.token_expires_at <= now() THEN
    RETURN QUERY SELECT v_row.domain, 'expired'::text;
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM organization_domains d WHERE d.domain = v_row.domain AND d.verified AND d.organization_id <> v_row.organization_id) THEN
    RETURN QUERY SELECT v_row.domain, 'held'::text;
    RETURN;
  END IF;
  IF NOT v_row.verified THEN
    UPDATE organization_domains d
       SET verified = true, verified_at = now(), verified_method = 'EMAIL', email_token_hash = NULL, proof_lost_at = NULL, last_checked_at = now()
     WHERE d.organization_id = v_row.organization_id AND d.domain = v_row.domain;
  END IF;
  RETURN QUERY SELECT v_row.domain, 'verified'::text;
END
$$;
REVOKE ALL ON FUNCTION app.confirm_domain_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.confirm_domain_email(text) TO tenantgate_runtime;
