import type pg from 'pg';

/**
 * `connection.query()` through node-postgres' callback form, as a promise. The
 * access check and COMMIT/ROLLBACK go through here; the reads of a held
 * transaction go through its queue (./request-transaction.ts), which uses the
 * callback form directly.
 *
 * PERF: node-postgres' promise form does `query.callback = (err, res) => …`
 * (pg/lib/client.js). V8, as in Node 20, allocates a function literal that is
 * assigned to a property straight into the old generation. Once the query is
 * done, that dead closure stays there until the next full collection, and until
 * then every young-generation collection treats what it reaches (its scope: the
 * query, its result and rows, the promise and whatever awaits it) as alive. A
 * callback passed as an argument is an ordinary young closure
 * (docs/adr/0004-young-generation-garbage.md has the measurements).
 */
export function sendQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  connection: pg.ClientBase,
  config: string | pg.QueryConfig,
): Promise<pg.QueryResult<R>> {
  return new Promise((resolve, reject) => {
    connection.query<R>(config, (error, result) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}

/**
 * Sends several statements in one simple-protocol message (one round trip) and
 * resolves with one result per statement. node-postgres resolves a message of
 * several statements with an array; its types describe one result only.
 */
export async function sendMessage(connection: pg.ClientBase, statements: readonly string[]): Promise<pg.QueryResult[]> {
  const result: pg.QueryResult | pg.QueryResult[] = await sendQuery(connection, statements.join('; '));
  return Array.isArray(result) ? result : [result];
}
