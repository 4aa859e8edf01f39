import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { CpuMonitor } from './cpu';
import { captureStatements, startRecordedGateway } from './http-bench';
import { failures, LoadGenerator } from './load';
import { explainAsTenant, recordStatements, scopedQueries, type CapturedStatement, type ScopedStatement } from './plans';
import { startServerProcess } from './processes';
import { fixed, heading, integer, table } from './report';
import { median } from './rounds';
import type { ServerName } from './options';
import { dialectOf, SCENARIOS, type TokenEntry } from './scenarios';

/**
 * `npm run bench -- --profile` (issue 18, item 2): where a gateway request's
 * time goes, for the projects page and project(id:), at 50 connections.
 *
 * Node: the gateway in its own process is profiled (V8's sampling profiler,
 * 1 ms, through the inspector, over the measured window only) and every sample
 * is charged to the nearest frame on its stack that belongs to a package
 * (node_modules/<package>, src/), so Node's own code (a Buffer copy, a stream)
 * counts for whoever called it; only what no package called (the HTTP parser
 * reading a socket) stays with node:http/net/streams. Divided by the requests
 * the process finished: CPU µs per request by package.
 *
 * Prisma's query compiler is WebAssembly (wasm:// frames), counted apart
 * from its JavaScript runtime: query building against running the plan and
 * mapping the rows.
 *
 * PostgreSQL: with pg_stat_statements loaded (shared_preload_libraries), its
 * execution time per statement over the measured window; else (the shared
 * server here has no preloaded library) each statement one request sends,
 * captured at the driver, EXPLAIN (ANALYZE, TIMING OFF)ed as the runtime role
 * in its request's settings, 30 times, the median's execution time; the rest of
 * PostgreSQL's CPU per request (measured from /proc over the load) is BEGIN,
 * the SET LOCALs, COMMIT, parse/plan and the protocol.
 */

export interface ProfileOptions {
  runtimeUrl: string;
  secret: string;
  admin: pg.Client;
  monitor: CpuMonitor;
  entries: TokenEntry[];
  duration: number;
  warmup: number;
  connections?: number;
  /** The queries to load, in this order. @default ['projects', 'project'] */
  queries?: readonly ('projects' | 'project' | 'tasks')[];
  /** @default 'gateway' */
  server?: ServerName;
  log: (line: string) => void;
}

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a frame belongs to, or null for Node's own code and native frames. */
export function packageOf(url: string): string | null {
  if (!url || url.startsWith('node:')) return null;
  // The gateway's one WebAssembly module is Prisma's query compiler (the caller frames say so in the profile).
  if (url.startsWith('wasm://')) return 'Prisma: query compiler (wasm)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length);
    const [scope, name] = rest.split('/');
    if (scope === 'graphql') {
      if (name === 'language') return 'graphql: parse (language/)';
      if (name === 'validation') return 'graphql: validate (validation/)';
      if (name === 'execution') return 'graphql: execute (execution/)';
      return 'graphql: other';
    }
    if (scope === '@pothos') return 'Pothos (@pothos)';
    if (scope === '@prisma' && name === 'adapter-pg') return 'Prisma: @prisma/adapter-pg';
    if (scope === '@prisma' && name === 'client') return 'Prisma: @prisma/client runtime (runs the compiled plan, maps results)';
    if (scope === '@prisma' || scope === '.prisma' || scope === 'prisma') return `Prisma: other (${scope}/${name})`;
    if (/^pg(-|$)/.test(scope) || scope === 'postgres-array' || scope === 'postgres-date' || scope === 'postgres-interval') return 'pg (pg, pg-protocol, pg-types, pg-pool)';
    if (scope === 'graphql-yoga' || scope === '@graphql-yoga' || scope === '@whatwg-node' || scope === '@envelop') return 'HTTP: graphql-yoga, @whatwg-node, @envelop';
    if (scope === 'tsx' || scope === 'esbuild' || scope === 'get-tsconfig') return 'tsx (module loading)';
    return `other: ${scope.startsWith('@') ? `${scope}/${name}` : scope}`;
  }
  if (file.includes('/src/generated/')) return 'Prisma: generated client (src/generated)';
  if (file.includes('/src/')) return `src/ (tenantgate): ${file.slice(file.indexOf('/src/') + 5).split('/')[0]}`;
  return `other: ${path.basename(file)}`;
}

function nodeInternal(frame: CallFrame): string {
  if (frame.functionName === '(garbage collector)') return 'V8: garbage collector';
  if (frame.functionName === '(program)') return 'V8/native: (program)';
  if (frame.functionName === '(idle)') return '(idle)';
  if (/^node:(_http|http|net|internal\/(streams|http|stream_base|net))/.test(frame.url)) return 'HTTP: node:http/net/streams';
  if (frame.url.startsWith('node:')) return 'node: other internals';
  return 'native / unattributed';
}

/**
 * Samples per category, each charged to the nearest package frame on its
 * stack. The first sample is left out: its time delta runs from the start of
 * the profiler, and it lands in the call that started it.
 */
export function summarizeProfile(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const categorize = (id: number): string => {
    const cached = categoryOf.get(id);
    if (cached) return cached;
    const own = byId.get(id)!.callFrame;
    let category: string;
    if (own.functionName === '(garbage collector)' || own.functionName === '(idle)' || own.functionName === '(program)') category = nodeInternal(own);
    else {
      let found: string | null = null;
      for (let at: number | undefined = id; at !== undefined && !found; at = parent.get(at)) found = packageOf(byId.get(at)!.callFrame.url);
      category = found ?? nodeInternal(own);
    }
    categoryOf.set(id, category);
    return category;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (i === 0) return;
    const category = categorize(id);
    totals.set(category, (totals.get(category) ?? 0) + 1);
  });
  return totals;
}

interface LabelledStatement extends ScopedStatement {
  label: string;
}

/**
 * The statements to EXPLAIN for one request: the access function out of the
 * opening message (`BEGIN READ ONLY; SET LOCAL …; SELECT * FROM
 * app.request_access(…)`, in the settings before it), then each query, in its
 * transaction's settings.
 */
function explainable(captured: CapturedStatement[]): LabelledStatement[] {
  const result: LabelledStatement[] = [];
  for (const statement of captured) {
    const opening = /^\s*BEGIN\b[^;]*;\s*(SET\s+LOCAL\b[\s\S]*?);\s*(SELECT\s+\*\s+FROM\s+app\.request_access\([\s\S]*?\))\s*(;\s*COMMIT\s*)?$/i.exec(statement.text);
    if (opening) result.push({ label: 'access function: app.request_access()', scope: opening[1], statement: { text: opening[2], values: [] } });
  }
  for (const q of scopedQueries(captured)) {
    const table = /FROM\s+"(?:public|tenantgate)"\."(\w+)"/i.exec(q.statement.text)?.[1] ?? 'other';
    result.push({ ...q, label: table === 'projects' ? 'page query: projects (owners joined)' : table === 'tasks' ? 'page query: tasks (assignees joined)' : `query on ${table}` });
  }
  return result;
}

async function pgStatStatements(admin: pg.Client): Promise<boolean> {
  const { rows } = await admin.query<{ loaded: boolean }>(`SELECT 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) AS loaded`);
  if (!rows[0]?.loaded) return false;
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return true;
}

export async function runProfile(options: ProfileOptions): Promise<void> {
  const { log, admin, monitor } = options;
  const connections = options.connections ?? 50;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tenantgate-profile-'));
  const withStatements = await pgStatStatements(admin);
  const serverName = options.server ?? 'gateway';
  log(heading(`Where the time goes: ${serverName}, ${connections} connections, ${options.duration} s per query`));
  log(
    withStatements
      ? '  PostgreSQL: pg_stat_statements (loaded), execution time per statement over the measured window'
      : '  PostgreSQL: pg_stat_statements is not in shared_preload_libraries on this server: EXPLAIN (ANALYZE, TIMING OFF) of each statement, as the runtime role in its settings',
  );
  const server = await startServerProcess(serverName, { runtimeUrl: options.runtimeUrl, secret: options.secret, log });
  const generator = new LoadGenerator(options.entries);
  const recorder = recordStatements();
  const probe = await startRecordedGateway(options.runtimeUrl, options.secret, recorder);
  try {
    for (const scenario of options.queries ?? (['projects', 'project'] as const)) {
      const job = { url: server.url, scenario, dialect: dialectOf(serverName), connections };
      // At least 5 s: a cold gateway compiles its queries and loads modules on its first requests, which is not a request's cost.
      await generator.run({ ...job, duration: Math.max(5, options.warmup) });
      // Until the warm-up's last handlers are done: their statements must not land in the measured window.
      await server.drain(30_000);
      if (withStatements) await admin.query('SELECT pg_stat_statements_reset()');
      const file = path.join(dir, `${scenario}.cpuprofile`);
      await server.profileStart(1000);
      const endCpu = await monitor.begin(server.pid);
      const before = await server.stats();
      const result = await generator.run({ ...job, duration: options.duration });
      await server.drain();
      const cpu = await endCpu();
      const after = await server.stats();
      await server.profileStop(file);
      const requests = after.completed - before.completed;
      const serverUs = cpu ? (cpu.serverSeconds * 1e6) / requests : Number.NaN;
      const postgresUs = cpu ? (cpu.postgresSeconds * 1e6) / requests : Number.NaN;
      log(`\n${SCENARIOS[scenario].title}: ${integer(requests)} requests, ${integer(result.requestsPerSecond)} req/s, ${failures(result)} bad; ` +
        `CPU per request: ${serverName} process ${integer(serverUs)} µs, PostgreSQL ${integer(postgresUs)} µs (from /proc)`);

      // Node, by package: each category's share of the busy samples, times the process's CPU per request.
      const totals = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
      const idle = totals.get('(idle)') ?? 0;
      totals.delete('(idle)');
      const busy = [...totals.values()].reduce((a, b) => a + b, 0);
      const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
      log(
        `  Node (V8 profile of the ${serverName} process at 1 ms: ${integer(busy)} busy samples, ${integer(idle)} idle; ` +
          `each category's share of the busy samples times the process's CPU per request; profile: ${file}):`,
      );
      log(
        table(
          ['charged to', 'µs/request', 'share'],
          [
            ...rows.map(([name, n]) => [name, fixed((n / busy) * serverUs, 0), `${fixed((n / busy) * 100, 1)}%`]),
            [`${serverName} process CPU per request (from /proc)`, fixed(serverUs, 0), '100%'],
          ],
          ['left', 'right', 'right'],
        )
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );

      // PostgreSQL, by statement (the gateway's: the probe below is a gateway).
      if (serverName !== 'gateway') continue;
      if (withStatements) {
        const { rows: stats } = await admin.query<{ query: string; calls: string; total_ms: number }>(
          `SELECT query, calls, total_exec_time AS total_ms FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = current_database()`,
        );
        // SET is not normalized by pg_stat_statements: one entry per organization's literal, folded into one here.
        const grouped = new Map<string, { calls: number; ms: number }>();
        for (const row of stats) {
          const text = row.query.replace(/\s+/g, ' ').replace(/'[^']*'/g, "'…'");
          const entry = grouped.get(text) ?? { calls: 0, ms: 0 };
          entry.calls += Number(row.calls);
          entry.ms += row.total_ms;
          grouped.set(text, entry);
        }
        const sorted = [...grouped.entries()].sort((a, b) => b[1].ms - a[1].ms);
        const totalMs = sorted.reduce((sum, [, e]) => sum + e.ms, 0);
        log('  PostgreSQL (pg_stat_statements over the window, execution time per request; the bench\'s own monitoring queries included):');
        log(
          table(
            ['statement', 'calls/request', 'µs/request'],
            [
              ...sorted.slice(0, 25).map(([text, e]) => [text.slice(0, 100), fixed(e.calls / requests, 2), fixed((e.ms * 1000) / requests, 0)]),
              ['all statements', '', fixed((totalMs * 1000) / requests, 0)],
              ['PostgreSQL CPU per request (from /proc, over the load)', '', fixed(postgresUs, 0)],
            ],
            ['left', 'right', 'right'],
          )
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n'),
        );
      } else {
        const captured = await captureStatements(probe.server, recorder, options.entries[0], scenario);
        const statements = explainable(captured);
        // 30 times each on one connection, as a pooled connection runs them: the access function's
        // PL/pgSQL plans are cached per connection, and its first call on a new one plans them all.
        const explained = await explainAsTenant(options.runtimeUrl, Array.from({ length: 30 }, () => statements).flat(), 'ANALYZE, TIMING OFF');
        const times = statements.map((_, k) => explained.filter((_, i) => i % statements.length === k).map((e) => e.executionMs * 1000));
        const itemized = statements.map((s, k) => ({ label: s.label, us: median(times[k]) }));
        const sum = itemized.reduce((a, b) => a + b.us, 0);
        log(`  PostgreSQL (${captured.length} statements per request; execution time, median of 30 EXPLAIN ANALYZE as the runtime role):`);
        log(
          table(
            ['statement', 'µs/request', 'of pg CPU/request'],
            [
              ...itemized.map((i) => [i.label, fixed(i.us, 0), `${fixed((i.us / postgresUs) * 100, 0)}%`]),
              ['the rest: BEGIN, SET LOCALs, COMMIT, parse/plan, protocol (measured CPU - the above)', fixed(postgresUs - sum, 0), `${fixed(((postgresUs - sum) / postgresUs) * 100, 0)}%`],
              ['PostgreSQL CPU per request (from /proc, over the load)', fixed(postgresUs, 0), '100%'],
            ],
            ['left', 'right', 'right'],
          )
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n'),
        );
        for (const s of captured) log(`    sent: ${s.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
    }
  } finally {
    await probe.close();
    await generator.close();
    await server.close();
  }
  // The .cpuprofile files stay for a look in Chrome's DevTools; their paths are printed above.
}
