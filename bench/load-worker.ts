/**
 * The load generator, in a worker thread of its own: autocannon on the main
 * thread would share the event loop with the server it measures and slow it
 * down by exactly the work of generating the load.
 *
 * Each request draws a random organization of the sample (its token in the
 * Authorization header) and, for `project(id:)`, one of that organization's
 * projects; each response is parsed and checked against what that organization
 * must get back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import { inDialect, normalizeResponse, SCENARIOS, type GraphQLRequestBody, type TokenEntry } from './scenarios';
import type { LoadJob, LoadResult, WorkerInput, WorkerMessage } from './load';

const { entries } = workerData as WorkerInput;
if (!parentPort) throw new Error('bench/load-worker.ts runs as a worker thread only');
const port = parentPort;

/** What autocannon keeps per connection between building a request and reading its response. */
interface RequestContext {
  entry?: TokenEntry;
  body?: GraphQLRequestBody;
}

const pick = (n: number) => Math.floor(Math.random() * n);

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function run(job: LoadJob): Promise<LoadResult> {
  const scenario = SCENARIOS[job.scenario];
  // autocannon's own latency histogram keeps whole milliseconds only; a 1.4 ms
  // p50 matters here, so every response time is kept at full resolution.
  const latencies: number[] = [];
  let graphqlErrors = 0;
  let mismatches = 0;
  const samples: string[] = [];
  const remember = (what: string, body: string) => {
    if (samples.length < 5) samples.push(`${what}: ${body.slice(0, 300)}`);
  };

  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.duration,
        // A response slower than this is an error, not a latency: it ends the request.
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/graphql',
            setupRequest(request, context) {
              const ctx = context as RequestContext;
              const entry = entries[pick(entries.length)];
              // In the gateway's words (what the check reads), sent in the server's.
              const body = scenario.body(entry, pick);
              ctx.entry = entry;
              ctx.body = body;
              return {
                ...request,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${entry.token}` },
                body: JSON.stringify(inDialect(job.dialect, job.scenario, entry, body)),
              };
            },
            onResponse(status, body, context) {
              const ctx = context as RequestContext;
              if (status < 200 || status > 299) {
                remember(`HTTP ${status}`, body);
                return;
              }
              let parsed: unknown;
              try {
                parsed = normalizeResponse(job.dialect, job.scenario, JSON.parse(body));
              } catch {
                mismatches += 1;
                remember('not JSON', body);
                return;
              }
              const problem = ctx.entry && ctx.body ? scenario.check(ctx.entry, ctx.body, parsed) : 'no request context';
              if (problem === 'graphql-errors') {
                graphqlErrors += 1;
                remember('GraphQL errors', body);
              } else if (problem) {
                mismatches += 1;
                remember(problem, body);
              }
            },
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const sorted = Float64Array.from(latencies).sort();
        const mean = sorted.length ? sorted.reduce((sum, v) => sum + v, 0) / sorted.length : Number.NaN;
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
        const responses = latencies.length;
        resolve({
          responses,
          durationSeconds: result.duration,
          requestsPerSecond: responses / result.duration,
          latencyMs: {
            p50: percentile(sorted, 50),
            p90: percentile(sorted, 90),
            p99: percentile(sorted, 99),
            mean,
            max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
          },
          non2xx: result.non2xx,
          statusCodes,
          connectionErrors: result.errors,
          timeouts: result.timeouts,
          graphqlErrors,
          mismatches,
          samples,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}

port.on('message', (job: LoadJob | 'exit') => {
  if (job === 'exit') {
    port.close();
    return;
  }
  run(job).then(
    (result) => port.postMessage({ id: job.id, result } satisfies WorkerMessage),
    (error: Error) => port.postMessage({ id: job.id, error: error.stack ?? error.message } satisfies WorkerMessage),
  );
});
