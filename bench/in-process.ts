/**
 * npm run bench:in-process -- [--seconds 5] [--concurrency 10] [--rounds 2]
 *
 * Where a request's time goes, without HTTP: the gateway and the baseline are
 * called through `fetch` of their Yoga instances in this process, on the
 * dataset of `npm run bench` (run that once first). Prints, per server and
 * request, the CPU time of this process per request (user + system, divided by
 * the requests served), the event-loop utilization, throughput and latency; and,
 * at one request at a time, how many of the slow requests (over 8 ms) overlapped
 * a garbage collection, and how long those took. The servers alternate within a
 * round, so a drift of the machine hits them alike.
 *
 * The HTTP benchmark (`npm run bench`) is what the targets are checked against;
 * this one explains its figures.
 */
import './env';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { createGateway } from '../src/yoga';
import { createBaseline } from './baseline';
import { benchUrls, sampleOrganizations } from './database';
import { projectGlobalId } from './scenarios';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    // The gateway only, at the given concurrency only (bench/patches.ts runs it once per patch set).
    'gateway-only': { type: 'boolean', default: false },
    // Which requests (default all), e.g. `--requests page,tasks`; and which concurrencies (default 1 and --concurrency).
    requests: { type: 'string' },
    'only-concurrent': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:in-process -- [--seconds 5] [--concurrency 10] [--rounds 2]   (after `npm run bench` has seeded its database)');
  process.exit(0);
}
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
for (const [name, value] of [['--seconds', seconds], ['--concurrency', concurrency], ['--rounds', rounds]] as const) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(args[name.slice(2) as 'seconds'])}`);
}

type Fetch = (url: string, init: RequestInit) => Promise<Response> | Response;

const REQUESTS = {
  page: () => ({ query: 'query { projects(first: 20) { edges { node { id name status owner { email } } } } }' }),
  project: (ids: string[]) => ({
    query: 'query($id: ID!) { project(id: $id) { id name status owner { email } } }',
    variables: { id: projectGlobalId(ids[Math.floor(Math.random() * ids.length)]) },
  }),
  // Reads nothing: token, access check, COMMIT, Yoga. The baseline has no such field.
  'viewer { role }': () => ({ query: 'query { viewer { role } }' }),
  // Issue 12: the tasks page with its assignees (bench/scenarios.ts's TASKS_QUERY).
  tasks: () => ({ query: 'query { tasks(first: 20) { edges { node { id title status assignee { email } } } } }' }),
} as const;
type RequestName = keyof typeof REQUESTS;

interface Measured {
  requests: number;
  cpuMsPerRequest: number;
  eventLoopUtilization: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** At concurrency 1 only. */
  gc?: { slow: number; slowDuringGc: number; collections: number; medianPauseMs: number; maxPauseMs: number };
}

async function main() {
  const urls = benchUrls();
  const orgs = await sampleOrganizations(urls.adminUrl, 100);
  if (orgs.length === 0) throw new Error('The bench database holds no organizations: run `npm run bench` once first.');
  const secret = 'in-process-benchmark-secret-0123456789';
  const entries = await Promise.all(
    orgs.map(async (o) => ({ ids: o.projectIds, token: await signToken({ secret, userId: o.userId, organizationId: o.organizationId, expiresIn: '1h' }) })),
  );
  const db = createDatabase({ url: urls.runtimeUrl, max: 10, applicationName: 'tenantgate-bench-in-process' });
  const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret }), logging: false, graphiql: false });
  const baseline = createBaseline({ runtimeUrl: urls.runtimeUrl, secret });
  const wanted = args.requests ? new Set(args.requests.split(',').map((r) => r.trim())) : undefined;
  for (const r of wanted ?? []) if (!(r in REQUESTS)) throw new Error(`--requests takes ${Object.keys(REQUESTS).join(', ')}; got ${JSON.stringify(r)}`);
  const only = (requests: RequestName[]) => requests.filter((r) => !wanted || wanted.has(r));
  const servers: [string, Fetch, RequestName[]][] = [
    ['baseline', (baseline.handler as unknown as { fetch: Fetch }).fetch, only(['page', 'project', 'tasks'])],
    ['gateway', gateway.fetch, only(['page', 'project', 'viewer { role }', 'tasks'])],
  ];
  if (args['gateway-only']) servers.shift();
  // Per server, request and concurrency: CPU ms per request of every round, for the medians at the end.
  const cpuOf = new Map<string, number[]>();

  async function one(fetch: Fetch, request: RequestName): Promise<void> {
    const entry = entries[Math.floor(Math.random() * entries.length)];
    const body = JSON.stringify(REQUESTS[request](entry.ids));
    // With a Content-Length, as HTTP clients send it.
    const response = await fetch('http://bench.local/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), authorization: `Bearer ${entry.token}` },
      body,
    });
    const result = (await response.json()) as { errors?: unknown[] };
    if (result.errors) throw new Error(`${request}: ${JSON.stringify(result.errors)}`);
  }

  async function measure(fetch: Fetch, request: RequestName, conc: number, secs: number): Promise<Measured> {
    const gcs: { start: number; end: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
    });
    if (conc === 1) observer.observe({ entryTypes: ['gc'] });
    const spans: { start: number; end: number }[] = [];
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const until = started + secs * 1000;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (performance.now() < until) {
          const start = performance.now();
          await one(fetch, request);
          spans.push({ start, end: performance.now() });
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    const wall = performance.now() - started;
    const utilization = performance.eventLoopUtilization(elu).utilization;
    observer.disconnect();
    const latencies = spans.map((s) => s.end - s.start).sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
    const measured: Measured = {
      requests: spans.length,
      cpuMsPerRequest: (used.user + used.system) / 1000 / spans.length,
      eventLoopUtilization: utilization,
      requestsPerSecond: (spans.length / wall) * 1000,
      p50: at(0.5),
      p99: at(0.99),
    };
    if (conc === 1) {
      const slow = spans.filter((s) => s.end - s.start > 8);
      const pauses = gcs.map((g) => g.end - g.start).sort((a, b) => a - b);
      measured.gc = {
        slow: slow.length,
        slowDuringGc: slow.filter((s) => gcs.some((g) => g.end > s.start && g.start < s.end)).length,
        collections: gcs.length,
        medianPauseMs: pauses[pauses.length >> 1] ?? 0,
        maxPauseMs: pauses[pauses.length - 1] ?? 0,
      };
    }
    return measured;
  }

  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`in process, ${seconds} s per measurement, ${rounds} round(s), NODE_ENV=${process.env.NODE_ENV}`);
  try {
    for (const [, fetch, requests] of servers) for (const request of requests) await measure(fetch, request, concurrency, 1); // warm-up
    for (let round = 1; round <= rounds; round++) {
      for (const conc of args['gateway-only'] || args['only-concurrent'] ? [concurrency] : [1, concurrency]) {
        for (const [name, fetch, requests] of servers) {
          for (const request of requests) {
            const m = await measure(fetch, request, conc, seconds);
            const key = `${name.padEnd(8)}  ${request.padEnd(15)} ${String(conc).padStart(3)} at a time`;
            cpuOf.set(key, [...(cpuOf.get(key) ?? []), m.cpuMsPerRequest]);
            let line = `round ${round}  ${name.padEnd(8)}  ${request.padEnd(15)} ${String(conc).padStart(3)} at a time: cpu ${f(m.cpuMsPerRequest, 3)} ms/request, event loop ${f(m.eventLoopUtilization)}, ${f(m.requestsPerSecond, 0)} req/s, p50 ${f(m.p50)} ms, p99 ${f(m.p99)} ms`;
            if (m.gc) line += `; ${m.gc.slowDuringGc} of ${m.gc.slow} requests over 8 ms overlapped a GC (${m.gc.collections} GCs, median ${f(m.gc.medianPauseMs)} ms, max ${f(m.gc.maxPauseMs)} ms)`;
            console.log(line);
          }
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    console.log(`\nmedian CPU per request over ${rounds} round(s) (and the rounds' range):`);
    for (const [key, xs] of cpuOf) console.log(`  ${key}: ${f(median(xs), 3)} ms (${f(Math.min(...xs), 3)}–${f(Math.max(...xs), 3)})`);
  } finally {
    await gateway.dispose();
    await db.close();
    await baseline.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
