-- tenantgate: drop the first signature of app.request_access().
--
-- Migration 20261127050000_request_access_scopes added the six-argument
-- signature (with p_support) beside the five-argument one, so that gateways of
-- the version before it kept working during a rolling deploy. No released
-- gateway since calls the five-argument one. Deploy this only once every
-- gateway runs a version that calls the six-argument signature.
DROP FUNCTION IF EXISTS app.request_access(uuid, boolean, boolean, date, date);
