/**
 * Reading the statements the gateway sent (recorded at the driver through the
 * harness's onStatement): enough of each to read a list and assert it.
 */

/**
 * A mutation's access check: BEGIN, SET LOCAL, the access query (or, when the
 * access cache has the member, the organization's access version) and COMMIT,
 * sent as one message.
 */
export const ACCESS_CHECK = 'BEGIN; SET LOCAL app.*; SELECT access; COMMIT (one message)';

/**
 * A query's access check, which leaves its transaction open for the query's
 * reads: BEGIN READ ONLY, SET LOCAL and the access query, sent as one message.
 */
export const OPEN_READ = 'BEGIN READ ONLY; SET LOCAL app.*; SELECT access (one message, stays open)';

/**
 * A query that ran on a remembered access check which its opening message
 * did not confirm: it was rolled back and ran again after the full check
 * (RequestScope.openRemembered). True when `raw` holds, in this order, an
 * opening that read the access version only, a ROLLBACK, and an opening with
 * the full check.
 */
export function restartedAfterFullCheck(raw: readonly string[]): boolean {
  const remembered = raw.findIndex((sql) => sql.startsWith('BEGIN READ ONLY') && sql.includes('FROM access_versions') && !sql.includes('app.request_access('));
  const rollback = raw.indexOf('ROLLBACK', remembered + 1);
  return remembered >= 0 && rollback > remembered && raw.slice(rollback + 1).some((sql) => sql.startsWith('BEGIN READ ONLY') && sql.includes('app.request_access('));
}

/** `SELECT projects`, `BEGIN`, `SET LOCAL app.*`, the access check, `WITH RECURSIVE subtree`… */
export function summarizeStatement(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  if (/^BEGIN READ ONLY; SET LOCAL app\.current_org_id .*SELECT (\* FROM app\.request_access\(|version::text FROM access_versions ).*; COMMIT$/.test(text)) return ACCESS_CHECK;
  if (/^BEGIN READ ONLY; SET LOCAL app\.current_org_id .*SELECT (\* FROM app\.request_access\(|version::text FROM access_versions )[^;]*$/.test(text)) return OPEN_READ;
  if (/^SET LOCAL app\.current_org_id/.test(text)) return 'SET LOCAL app.*';
  if (/^WITH RECURSIVE subtree/.test(text)) return 'SELECT subtree';
  const select = /^SELECT .*? FROM "(?:public|tenantgate)"\."(\w+)"/.exec(text);
  return select ? `SELECT ${select[1]}` : text.split(' ')[0];
}
