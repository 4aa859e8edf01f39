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
 * The confirmation of a remembered access check (src/auth/access.ts): a named
 * prepared statement, written right after `BEGIN READ ONLY; SET LOCAL …`.
 */
const ACCESS_VERSION_CHECK = 'SELECT version::text FROM access_versions WHERE organization_id = $1::uuid';

/** The same confirmation when the remembered API_CALLS usage is old: it reads this month's usage too. */
const ACCESS_VERSION_AND_USAGE_CHECK = /^SELECT v\.version::text, \(SELECT COALESCE\(sum\(u\.api_calls\), 0\) FROM usage_daily u /;

const isRememberedCheck = (sql: string | undefined) => sql !== undefined && (sql === ACCESS_VERSION_CHECK || ACCESS_VERSION_AND_USAGE_CHECK.test(sql));

/** The scope part of a remembered check's opening: `BEGIN READ ONLY; SET LOCAL …` and nothing else. */
function isRememberedScope(sql: string): boolean {
  return sql.startsWith('BEGIN READ ONLY; SET LOCAL app.current_org_id ') && !sql.includes('; SELECT ');
}

/**
 * A query that ran on a remembered access check which its opening
 * did not confirm: it was rolled back and ran again after the full check
 * (RequestScope.openRemembered). True when `raw` holds, in this order, an
 * opening that read the access version only, a ROLLBACK, and an opening with
 * the full check.
 */
export function restartedAfterFullCheck(raw: readonly string[]): boolean {
  const remembered = raw.findIndex((sql, i) => isRememberedScope(sql) && isRememberedCheck(raw[i + 1]));
  const rollback = raw.indexOf('ROLLBACK', remembered + 1);
  return remembered >= 0 && rollback > remembered && raw.slice(rollback + 1).some((sql) => sql.startsWith('BEGIN READ ONLY') && sql.includes('app.request_access('));
}

/**
 * The statements, summarized (summarizeStatement), a remembered check's
 * opening (its scope message and its prepared version read, with or without
 * the usage, two statements on the wire, written together) folded into one OPEN_READ, as the full check's
 * one message is.
 */
export function summarizeStatements(raw: readonly string[]): string[] {
  const summary: string[] = [];
  for (let i = 0; i < raw.length; i += 1) {
    if (isRememberedScope(raw[i]) && isRememberedCheck(raw[i + 1])) {
      summary.push(OPEN_READ);
      i += 1;
    } else summary.push(summarizeStatement(raw[i]));
  }
  return summary;
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
