import type { Plugin } from 'graphql-yoga';
import type pg from 'pg';

export interface HealthOptions {
  pool: pg.Pool;
  /** The newest migration this build ships: readiness fails while the database is behind it. */
  expectedMigration?: string;
  /** True once a stop has begun: readiness fails so a load balancer sends no new requests. */
  draining?: () => boolean;
  /** Where `/` sends a browser: GraphiQL when it is on. */
  graphiql: boolean;
  /** @default 2000 */
  timeoutMs?: number;
}

/**
 * `GET /healthz`: `{"status":"ok"}` while the process serves HTTP.
 * `GET /readyz`: `{"status":"ok","database":"ok","migration":"<name>"}`, or 503
 * with what is wrong (database unreachable, migrations behind, draining).
 * `GET /`: a redirect to GraphiQL when it is on, else where the API is.
 *
 * PERF: Yoga's own readiness plugin tests a URLPattern against every request's
 * URL; comparing the path is all these endpoints need.
 */
export function useHealth({ pool, expectedMigration, draining = () => false, graphiql, timeoutMs = 2000 }: HealthOptions): Plugin {
  const json = (fetchAPI: { Response: typeof Response }, status: number, body: unknown) =>
    new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });

  async function readiness(): Promise<{ status: number; body: Record<string, unknown> }> {
    if (draining()) return { status: 503, body: { status: 'draining' } };
    let migration: string | null;
    try {
      const result = await Promise.race([
        pool.query<{ version: string | null }>('SELECT app.migration_version() AS version'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
      migration = result.rows[0]?.version ?? null;
    } catch {
      // SECURITY: the driver's message can name hosts and roles; the log has it, the probe does not.
      return { status: 503, body: { status: 'unavailable', database: 'unreachable' } };
    }
    if (expectedMigration && (migration === null || migration < expectedMigration)) {
      return { status: 503, body: { status: 'unavailable', database: 'ok', migration, expectedMigration } };
    }
    return { status: 200, body: { status: 'ok', database: 'ok', migration } };
  }

  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      switch (url.pathname) {
        case '/healthz':
          return endResponse(json(fetchAPI, 200, { status: 'ok' }));
        case '/readyz':
          return readiness().then(({ status, body }) => endResponse(json(fetchAPI, status, body)));
        case '/':
          if (request.method !== 'GET' && request.method !== 'HEAD') return;
          if (graphiql) return endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } }));
          return endResponse(json(fetchAPI, 200, { name: 'tenantgate', graphql: '/graphql', health: '/healthz', readiness: '/readyz', message: 'POST GraphQL requests to /graphql with an Authorization: Bearer <token> header.' }));
      }
    },
  };
}
