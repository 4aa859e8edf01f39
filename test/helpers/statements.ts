/**
 * Reading the statements the gateway sent (recorded at the driver through the
 * harness's onStatement): enough of each to read a list and assert it.
 */

/** The request's access check: BEGIN, SET LOCAL, the access query and COMMIT, sent as one message. */
export const ACCESS_CHECK = 'BEGIN; SET LOCAL app.*; SELECT access; COMMIT (one message)';

/** `SELECT projects`, `BEGIN`, `SET LOCAL app.*`, the access check, `WITH RECURSIVE subtree`… */
export function summarizeStatement(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  if (/^BEGIN READ ONLY; SET LOCAL app\.current_org_id .*SELECT \* FROM app\.request_access\(.*; COMMIT$/.test(text)) return ACCESS_CHECK;
  if (/^SET LOCAL app\.current_org_id/.test(text)) return 'SET LOCAL app.*';
  if (/^WITH RECURSIVE subtree/.test(text)) return 'SELECT subtree';
  const select = /^SELECT .*? FROM "public"\."(\w+)"/.exec(text);
  return select ? `SELECT ${select[1]}` : text.split(' ')[0];
}
