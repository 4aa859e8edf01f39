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

/** The access version moved since the cached check: the full check, in the transaction already open. */
export const ACCESS_RECHECK = 'SELECT access (version moved)';

/** `SELECT projects`, `BEGIN`, `SET LOCAL app.*`, the access check, `WITH RECURSIVE subtree`… */
export function summarizeStatement(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  if (/^BEGIN READ ONLY; SET LOCAL app\.current_org_id .*SELECT (\* FROM app\.request_access\(|version::text FROM access_versions ).*; COMMIT$/.test(text)) return ACCESS_CHECK;
  if (/^BEGIN READ ONLY; SET LOCAL app\.current_org_id .*SELECT (\* FROM app\.request_access\(|version::text FROM access_versions )[^;]*$/.test(text)) return OPEN_READ;
  if (/^SELECT version::text FROM access_versions .*; SELECT \* FROM app\.request_access\(/.test(text)) return ACCESS_RECHECK;
  if (/^SET LOCAL app\.current_org_id/.test(text)) return 'SET LOCAL app.*';
  if (/^WITH RECURSIVE subtree/.test(text)) return 'SELECT subtree';
  const select = /^SELECT .*? FROM "public"\."(\w+)"/.exec(text);
  return select ? `SELECT ${select[1]}` : text.split(' ')[0];
}
