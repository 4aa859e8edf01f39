-- The organization's audit log, what it lacked (issue 16, item 2):
--
-- 1. Invitations revoked, declined and sent again: recorded by a trigger, so
--    every path that changes an invitation is covered (created and accepted are
--    recorded by src/invitations/invitations.ts with the change).
CREATE FUNCTION app.invitation_events() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  payload jsonb := jsonb_build_object('invitationId', NEW.id, 'email', NEW.email, 'role', NEW.role);
BEGIN
  IF OLD.status = 'PENDING' AND NEW.status = 'REVOKED' THEN
    PERFORM app.record_event(NEW.organization_id, 'invitation.revoked', 'invitation', NEW.id::text, payload, true);
  ELSIF OLD.status = 'PENDING' AND NEW.status = 'DECLINED' THEN
    PERFORM app.record_event(NEW.organization_id, 'invitation.declined', 'invitation', NEW.id::text, payload, true);
  ELSIF OLD.status = 'PENDING' AND NEW.status = 'PENDING' AND NEW.token_hash IS DISTINCT FROM OLD.token_hash THEN
    -- resendInvitation, or inviteMember for someone already invited (its role may change with it).
    PERFORM app.record_event(NEW.organization_id, 'invitation.resent', 'invitation', NEW.id::text,
                             payload || jsonb_build_object('previousRole', OLD.role), true);
  END IF;
  RETURN NULL;
END
$$;
-- Firing a trigger needs no EXECUTE privilege; nobody is to call it directly.
REVOKE ALL ON FUNCTION app.invitation_events() FROM PUBLIC;
CREATE TRIGGER emit_events AFTER UPDATE ON "invitations"
  FOR EACH ROW EXECUTE FUNCTION app.invitation_events();

-- 2. Support sessions: src/platform/organizations.ts writes `support.started`
--    into the organization's log (and outbox) with the platform's record; the
--    event worker writes `support.ended` once a session's token has expired
--    (its cron, src/events/worker.ts). PERF: the sweep reads the platform log's
--    recent starts by action.
CREATE INDEX "platform_audit_log_action_created_at_idx" ON "platform_audit_log"("action", "created_at" DESC);
