/**
 * npx tsx bench/tail.ts [servers] [seconds] [scenario] [rounds]
 *   e.g. npx tsx bench/tail.ts gateway,postgraphile 10 project 3
 *
 * Issue 18's p99 at one connection: what the slowest requests share. Each
 * server (its own process, as `npm run bench` starts it, warmed in for 10 s)
 * gets one connection of sequential requests from this process, the same
 * random organizations and projects as the benchmark, for `seconds`, in turn,
 * `rounds` times. For every request the client keeps its latency; a server of
 * ours also reports (bench/server-process.ts, `trace-start`) the time its
 * handler took, whether the access cache missed, and its garbage collections.
 * The report prints the distribution, how much of the latency was the server's
 * handler and how much outside it, and of the slowest 1%: how many missed the
 * access cache, read the API_CALLS usage with the version, came near a usage
 * flush (sent within 10 ms before or during the request), overlapped a GC; and
 * the same for all requests.
 * Needs the bench database (`npm run bench` once).
 */
import './env';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { benchUrls, sampleOrganizations, tokenEntries } from './database';
import type { ServerName } from './options';
import { startServerProcess, type ServerProcess } from './processes';
import { LoadGenerator } from './load';
import { dialectOf, inDialect, SCENARIOS, type ScenarioName, type TokenEntry } from './scenarios';
import type { ServerTrace } from './server-process';

const [serversArg = 'gateway,postgraphile', secondsArg = '10', scenarioArg = 'project', roundsArg = '3'] = process.argv.slice(2);
const servers = serversArg.split(',') as ServerName[];
const seconds = Number(secondsArg);
const scenario = scenarioArg as ScenarioName;
const rounds = Number(roundsArg);

const pick = (n: number) => Math.floor(Math.random() * n);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const ms = (value: number) => value.toFixed(2);
/** A request that began this long after a usage flush was sent, or during one, counts as near it. */
const FLUSH_NEAR_MS = 10;

interface Sample {
  start: number;
  latency: number;
}

/** One connection, one request at a time, for `duration` seconds. */
async function sequential(url: string, server: string, entries: TokenEntry[], duration = seconds): Promise<Sample[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const dialect = dialectOf(server);
  const target = new URL(url);
  const samples: Sample[] = [];
  const until = performance.now() + duration * 1000;
  while (performance.now() < until) {
    const entry = entries[pick(entries.length)];
    const body = JSON.stringify(inDialect(dialect, scenario, entry, SCENARIOS[scenario].body(entry, pick)));
    const start = performance.now();
    const text = await new Promise<string>((resolve, reject) => {
      const request = http.request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${entry.token}`, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    samples.push({ start, latency: performance.now() - start });
    if (!text.startsWith('{"data"')) throw new Error(`${server}: unexpected response ${text.slice(0, 200)}`);
  }
  agent.destroy();
  return samples;
}

function report(server: string, round: number, samples: Sample[], trace: ServerTrace | null): void {
  const latencies = samples.map((s) => s.latency).sort((a, b) => a - b);
  const line = [`p50 ${ms(percentile(latencies, 50))}`, `p90 ${ms(percentile(latencies, 90))}`, `p99 ${ms(percentile(latencies, 99))}`, `max ${ms(latencies[latencies.length - 1])}`];
  console.log(`\n${server}, round ${round}: ${samples.length} requests (${Math.round(samples.length / seconds)} req/s); client ${line.join(', ')} ms`);
  if (!trace) return;
  if (trace.requests.length !== samples.length) {
    console.log(`  the server traced ${trace.requests.length} requests, the client sent ${samples.length}: not matched`);
    return;
  }
  const rows = samples.map((s, i) => {
    const r = trace.requests[i];
    const handler = r.end - r.start;
    const gc = trace.gcs.filter((g) => g.start < r.end && g.start + g.duration > r.start - 0.5);
    const marks = trace.marks.filter((m) => m.at >= r.start && m.at <= r.end).map((m) => m.label);
    const flush = trace.marks.some((m) => m.label === 'usage flush' && m.at >= r.start - FLUSH_NEAR_MS && m.at <= r.end);
    return { latency: s.latency, handler, outside: s.latency - handler, miss: r.accessCacheMisses > 0, usageRead: marks.includes('usage read'), flush, gc: gc.reduce((sum, g) => sum + g.duration, 0) };
  });
  const describe = (label: string, set: typeof rows) => {
    const handler = set.map((r) => r.handler).sort((a, b) => a - b);
    const outside = set.map((r) => r.outside).sort((a, b) => a - b);
    const misses = set.filter((r) => r.miss).length;
    const share = (n: number) => `${((100 * n) / set.length).toFixed(1)}%`;
    const gcs = set.filter((r) => r.gc > 0);
    console.log(
      `  ${label.padEnd(16)} n=${String(set.length).padStart(5)}  handler p50 ${ms(percentile(handler, 50))} max ${ms(handler[handler.length - 1])}; outside p50 ${ms(percentile(outside, 50))} max ${ms(outside[outside.length - 1])}; ` +
        `cache misses ${share(misses)}; usage reads ${share(set.filter((r) => r.usageRead).length)}; near a usage flush ${share(set.filter((r) => r.flush).length)}; ` +
        `during a GC ${share(gcs.length)} (mean ${ms(gcs.reduce((s, r) => s + r.gc, 0) / Math.max(1, gcs.length))} ms)`,
    );
  };
  const bySlowness = [...rows].sort((a, b) => b.latency - a.latency);
  describe('all', rows);
  describe('slowest 1%', bySlowness.slice(0, Math.max(1, Math.round(rows.length / 100))));
  describe('slowest 1-5%', bySlowness.slice(Math.round(rows.length / 100), Math.round(rows.length / 20)));
  const miss = rows.filter((r) => r.miss).map((r) => r.latency).sort((a, b) => a - b);
  const hit = rows.filter((r) => !r.miss).map((r) => r.latency).sort((a, b) => a - b);
  if (miss.length) console.log(`  latency of misses p50 ${ms(percentile(miss, 50))} p90 ${ms(percentile(miss, 90))}; of hits p50 ${ms(percentile(hit, 50))} p99 ${ms(percentile(hit, 99))} ms`);
  const kinds = new Map<number, { n: number; total: number; max: number }>();
  for (const g of trace.gcs) {
    const k = kinds.get(g.kind) ?? { n: 0, total: 0, max: 0 };
    kinds.set(g.kind, { n: k.n + 1, total: k.total + g.duration, max: Math.max(k.max, g.duration) });
  }
  // perf_hooks' kinds: 1 minor (scavenge), 2 major, 4 incremental, 8 weak callbacks.
  console.log(`  GCs: ${[...kinds].map(([kind, k]) => `kind ${kind}: ${k.n} × mean ${ms(k.total / k.n)} max ${ms(k.max)} ms`).join('; ') || 'none'}`);
}

async function main(): Promise<void> {
  const urls = benchUrls();
  const secret = randomBytes(32).toString('hex');
  const entries = await tokenEntries(await sampleOrganizations(urls.adminUrl, 100), secret);
  const started: ServerProcess[] = [];
  const generator = new LoadGenerator(entries);
  for (const name of servers) {
    // e.g. TAIL_NODE_OPTIONS=--trace-gc-nvp: V8's own account of each collection, on the server's stdout.
    const nodeOptions = process.env.TAIL_NODE_OPTIONS?.split(' ').filter(Boolean);
    const server = await startServerProcess(name, { runtimeUrl: urls.runtimeUrl, secret, log: () => undefined, nodeOptions: name === 'postgraphile' ? undefined : nodeOptions, traced: name !== 'postgraphile' });
    await generator.run({ url: server.url, scenario, dialect: dialectOf(name), connections: 50, duration: 10 });
    await server.drain();
    started.push(server);
  }
  await generator.close();
  for (let round = 1; round <= rounds; round++) {
    for (const server of round % 2 ? started : [...started].reverse()) {
      const traced = server.name !== 'postgraphile';
      await sequential(server.url, server.name, entries, 2); // a moment's warm-up, on one connection
      if (traced) await server.traceStart();
      const samples = await sequential(server.url, server.name, entries);
      const trace = traced ? await server.traceStop() : null;
      report(server.name, round, samples, trace);
    }
  }
  for (const server of started) await server.close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
