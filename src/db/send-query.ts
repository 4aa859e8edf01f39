import type pg from 'pg';

/**
 * `connection.query()` through node-postgres' callback form, as a promise. Every
 * statement of a request goes through here (the access check, the reads of the
 * bound PrismaClient, COMMIT).
 *
 * PERF: node-postgres' promise form does `query.callback = (err, res) => …`
 * (pg/lib/client.js). V8, as in Node 20, allocates a function literal that is
 * assigned to a property straight into the old generation. Once the query is
 * done, that dead closure stays there until the next full collection, and until
 * then every young-generation collection treats what it reaches (its scope: the
 * query, its result and rows, the promise and whatever awaits it) as alive:
 * copied once, then promoted. A loop of such queries promoted about 1 MB per
 * scavenge and paused 3–4 ms each time; the callback form promoted a few KB and
 * paused 0.3–0.6 ms (a loop of queries on one connection, `--trace-gc-nvp`). A
 * callback passed as an argument is an ordinary young closure.
 */
export function sendQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  connection: pg.ClientBase,
  config: string | pg.QueryConfig,
): Promise<pg.QueryResult<R>> {
  return new Promise((resolve, reject) => {
    const query = connection.query as unknown as (
      config: string | pg.QueryConfig,
      callback: (error: Error | null, result: pg.QueryResult<R>) => void,
    ) => void;
    query.call(connection, config, (error, result) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}
