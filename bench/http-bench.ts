import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { assertRuntimeRole } from '../src/db/runtime-role';
import { createGateway } from '../src/yoga';
import { baselineScope, PAGE_SQL } from './baseline';
import { bestBareScope, PAGE as BEST_BARE_PAGE } from './best-bare';
import { describeShare, type CpuMonitor, type CpuShare } from './cpu';
import type { SampledOrganization } from './database';
import { serve, type RunningServer } from './http-server';
import { failures, LoadGenerator, type LoadResult } from './load';
import type { ServerName } from './options';
import { startServerProcess, type ServerProcess } from './processes';
import {
  explainAsTenant,
  PAGE_INDEX,
  recordStatements,
  scopedQueries,
  usesPageIndex,
  usesSharedPageIndexes,
  type ExplainedStatement,
  type StatementRecorder,
} from './plans';
import { fixed, heading, integer } from './report';
import { aggregateRounds } from './rounds';
import { dialectOf, inDialect, normalizeResponse, SCENARIOS, serves, type ScenarioName, type TokenEntry } from './scenarios';

/**
 * The HTTP part: every server under test in a process of its own (the gateway,
 * the gateway without usage tracking, the baseline, the best bare server,
 * PostGraphile), checked against the gateway, then loaded in turn from a worker
 * thread of this process. The statements of one gateway request are captured
 * and EXPLAINed with a gateway served in this process for that purpose only.
 */


interface HttpMeasurement extends LoadResult {
  scenario: ScenarioName;
  server: ServerName;
  connections: number;
  /** Statement-count delta over the run divided by the requests the server finished. */
  statementsPerRequest: number;
  serverCompleted: number;
  /** Where the machine's CPU went during the measured run. */
  cpu: CpuShare | null;
  /** CPU time of the server's process per request it finished, in microseconds (NaN without /proc). */
  serverCpuUsPerRequest: number;
  /** CPU time of PostgreSQL's processes for the bench database per request, in microseconds. */
  postgresCpuUsPerRequest: number;
  /** The server's resident memory at the end of the run, in MB. */
  rssMb: number;
}

/** One measured run, in round `round` (from 1) of `--rounds`. */
export interface HttpRoundRun extends HttpMeasurement {
  round: number;
}

/**
 * The `rounds` runs of one scenario, server and connection count as one (see
 * rounds.ts): req/s, latency percentiles and mean, statements per request and
 * CPU shares are medians; the latency max is the worst of all; responses, bad
 * responses, seconds and completed requests are totals.
 */
export interface HttpRun extends HttpMeasurement {
  rounds: number;
  /** The lowest and the highest round: how far apart the rounds were. */
  requestsPerSecondRange: { min: number; max: number };
}

export interface PlanCheck {
  /** Statements one projects(first: 20) request sent through the gateway. */
  gatewayStatements: string[];
  gatewayPageUsesIndex: boolean;
  baselinePageUsesIndex: boolean;
  bestBarePageUsesIndex: boolean;
  plans: ExplainedStatement[];
  /** The projects(scope: ALL) page: its statements, and whether its keys were read by the three branches' indexes. */
  allPageStatements: string[];
  allPageUsesIndexes: boolean;
  /** EXPLAIN ANALYZE's execution time of the page's statements, summed (ms). */
  allPageMs: number;
  allPagePlans: ExplainedStatement[];
}

export interface HttpBenchmarkOptions {
  runtimeUrl: string;
  secret: string;
  entries: TokenEntry[];
  sample: SampledOrganization[];
  connections: number[];
  servers: ServerName[];
  duration: number;
  warmup: number;
  /** Seconds each server serves each of its queries once before the first round (BenchOptions.warmIn). */
  warmIn: number;
  /** Times the whole load (every scenario, connection count and server) is run. */
  rounds: number;
  monitor: CpuMonitor;
  log: (line: string) => void;
}

async function postGraphQL(url: string, token: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    // A cold gateway's first answer (schema, query compiler) took over 10 s on a shared, loaded machine.
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, json: await response.json() };
}

/**
 * Before any load: for a few organizations, every server must return 200 and
 * the same data as the gateway (PostGraphile's answer mapped to the gateway's
 * shape first), and the gateway's data must pass the scenario's check. A server
 * that answered something else would make its ratio meaningless.
 */
async function checkEquivalence(entries: TokenEntry[], gateway: ServerProcess, others: ServerProcess[]): Promise<number> {
  const compared = entries.slice(0, 3);
  for (const entry of compared) {
    for (const scenario of Object.values(SCENARIOS).filter((s) => !s.gatewayOnly)) {
      const body = scenario.body(entry, () => 0);
      const g = await postGraphQL(gateway.url, entry.token, body);
      const problem = g.status !== 200 ? `HTTP ${g.status}` : scenario.check(entry, body, g.json);
      if (problem) throw new Error(`the gateway answered ${scenario.title} wrongly (${problem}): ${JSON.stringify(g.json).slice(0, 400)}`);
      for (const other of others.filter((o) => serves(o.name, scenario.name))) {
        const dialect = dialectOf(other.name);
        const o = await postGraphQL(other.url, entry.token, inDialect(dialect, scenario.name, entry, body));
        const normalized = normalizeResponse(dialect, scenario.name, o.json);
        if (o.status !== 200 || JSON.stringify(g.json) !== JSON.stringify(normalized)) {
          throw new Error(
            `${other.name} and the gateway disagree on ${scenario.title} for organization ${entry.organizationId}:\n` +
              `  gateway: ${JSON.stringify(g.json).slice(0, 300)}\n  ${other.name}: HTTP ${o.status} ${JSON.stringify(o.json).slice(0, 300)}`,
          );
        }
      }
    }
  }
  return compared.length;
}

function printPlan(log: (line: string) => void, title: string, statement: ExplainedStatement | undefined): void {
  if (!statement) {
    log(`  ${title}: statement not found`);
    return;
  }
  log(`  ${title}:`);
  log(`    SQL: ${statement.sql.length > 400 ? `${statement.sql.slice(0, 400)}…` : statement.sql}`);
  log(`    values: ${JSON.stringify(statement.values)}`);
  for (const line of statement.plan) log(`    | ${line}`);
}

export function describeRun(run: HttpRoundRun, rounds: number): string {
  const bad = failures(run);
  return (
    `  ${rounds > 1 ? `round ${run.round}/${rounds}  ` : ''}${run.server.padEnd(16)} ${SCENARIOS[run.scenario].title.padEnd(20)} ${String(run.connections).padStart(2)} conn: ` +
    `${integer(run.requestsPerSecond).padStart(6)} req/s  p50 ${fixed(run.latencyMs.p50, 2)} ms  p99 ${fixed(run.latencyMs.p99, 2)} ms  ` +
    `${fixed(run.statementsPerRequest, 1)} stmts/req  cpu/req: server ${integer(run.serverCpuUsPerRequest)} µs, postgres ${integer(run.postgresCpuUsPerRequest)} µs  ` +
    `${bad === 0 ? 'no errors' : `${bad} BAD RESPONSES`}; ${describeShare(run.cpu)}`
  );
}

/** Captures what one projects page costs the gateway, and EXPLAINs it and the baseline's SELECT as the tenant. */
async function checkPlans(
  options: HttpBenchmarkOptions,
  gateway: RunningServer,
  recorder: StatementRecorder,
): Promise<PlanCheck> {
  const { log } = options;
  const probe = options.entries[0];
  const captured = await captureStatements(gateway, recorder, probe, 'projects');
  log(`  one projects(first: 20) request sent ${captured.length} statements through the gateway:`);
  for (const s of captured) log(`    ${s.text.replace(/\s+/g, ' ').slice(0, 150)}`);

  const explained = await explainAsTenant(options.runtimeUrl, [
    ...scopedQueries(captured),
    { scope: baselineScope(probe.organizationId), statement: { text: PAGE_SQL, values: [20, probe.organizationId] } },
    // The best bare server's page, on a generic plan as its connections plan it.
    {
      scope: `${bestBareScope(probe.organizationId, options.sample[0].userId)}; SET LOCAL plan_cache_mode = force_generic_plan`,
      statement: { text: BEST_BARE_PAGE.text, values: [probe.organizationId, 20] },
    },
  ]);
  const gatewayPage = explained.find((e) => /FROM "(?:public|tenantgate)"\."projects"/.test(e.sql));
  // Both name the organization: the baseline as its second parameter, the best bare server as its first.
  const baselinePage = explained.find((e) => /FROM \S*projects p JOIN \S*users/.test(e.sql) && /organization_id = \$2/.test(e.sql));
  const bestBarePage = explained.find((e) => /FROM \S*projects p JOIN \S*users/.test(e.sql) && /organization_id = \$1\s+ORDER/.test(e.sql));
  log('  execution time of each query in PostgreSQL (EXPLAIN ANALYZE as the runtime role, scoped as the gateway scoped it):');
  for (const e of explained) log(`    ${fixed(e.executionMs, 3).padStart(7)} ms  ${e.sql.slice(0, 110)}`);
  printPlan(log, 'gateway: projects page', gatewayPage);
  printPlan(log, 'baseline: projects page', baselinePage);
  const check: Omit<PlanCheck, 'allPageStatements' | 'allPageUsesIndexes' | 'allPageMs' | 'allPagePlans'> = {
    gatewayStatements: captured.map((s) => s.text.replace(/\s+/g, ' ').trim()),
    gatewayPageUsesIndex: gatewayPage ? usesPageIndex(gatewayPage.plan) : false,
    baselinePageUsesIndex: baselinePage ? usesPageIndex(baselinePage.plan) : false,
    bestBarePageUsesIndex: bestBarePage ? usesPageIndex(bestBarePage.plan) : false,
    plans: explained,
  };
  log(`  gateway page read by an index scan on ${PAGE_INDEX}, no sort: ${check.gatewayPageUsesIndex ? 'yes' : 'NO'}`);
  log(`  baseline page read by an index scan on ${PAGE_INDEX}, no sort: ${check.baselinePageUsesIndex ? 'yes' : 'NO'}`);
  log(`  best-bare page read by an index scan on ${PAGE_INDEX}, no sort: ${check.bestBarePageUsesIndex ? 'yes' : 'NO'}`);
  return { ...check, ...(await checkAllPagePlans(options, gateway, recorder)) };
}

/** The same for projects(scope: ALL): the keys' statement must read each branch by its index (docs/adr/0052). */
async function checkAllPagePlans(
  options: HttpBenchmarkOptions,
  gateway: RunningServer,
  recorder: StatementRecorder,
): Promise<Pick<PlanCheck, 'allPageStatements' | 'allPageUsesIndexes' | 'allPageMs' | 'allPagePlans'>> {
  const { log } = options;
  const probe = options.entries[0];
  recorder.start();
  await postGraphQL(gateway.url, probe.token, SCENARIOS['projects-all'].body(probe, () => 0));
  const captured = recorder.stop();
  log(`  one projects(first: 20, scope: ALL) request sent ${captured.length} statements through the gateway:`);
  for (const s of captured) log(`    ${s.text.replace(/\s+/g, ' ').slice(0, 150)}`);
  const explained = await explainAsTenant(options.runtimeUrl, scopedQueries(captured));
  log('  execution time of each query in PostgreSQL (EXPLAIN ANALYZE as the runtime role, scoped as the gateway scoped it):');
  for (const e of explained) log(`    ${fixed(e.executionMs, 3).padStart(7)} ms  ${e.sql.slice(0, 110)}`);
  const keys = explained.find((e) => e.sql.includes('shared_row_keys'));
  printPlan(log, 'gateway: projects(scope: ALL) page keys', keys);
  const usesIndexes = keys ? usesSharedPageIndexes(keys.plan) : false;
  log(`  scope ALL page keys read by the three branches' indexes, no scan of projects: ${usesIndexes ? 'yes' : 'NO'}`);
  return {
    allPageStatements: captured.map((s) => s.text.replace(/\s+/g, ' ').trim()),
    allPageUsesIndexes: usesIndexes,
    allPageMs: explained.reduce((sum, e) => sum + e.executionMs, 0),
    allPagePlans: explained,
  };
}

/** The statements one request of `scenario` sends through an in-process gateway whose pool `recorder` watches. */
export async function captureStatements(gateway: RunningServer, recorder: StatementRecorder, entry: TokenEntry, scenario: ScenarioName) {
  recorder.start();
  await postGraphQL(gateway.url, entry.token, SCENARIOS[scenario].body(entry, () => 0));
  return recorder.stop();
}

/**
 * A gateway served in this process, its statements recorded: for the plan
 * check (and bench/profile.ts), not for load. `dispose()` comes first on close:
 * it writes the usage recorder's pending counts while the pool is still open.
 */
export async function startRecordedGateway(runtimeUrl: string, secret: string, recorder: StatementRecorder): Promise<{ server: RunningServer; close(): Promise<void> }> {
  const db = createDatabase({ url: runtimeUrl, max: 10, applicationName: 'tenantgate-bench-gateway-probe' });
  recorder.attach(db.pool);
  try {
    // SECURITY: the figures mean something only if RLS is really on the path.
    await assertRuntimeRole(db.pool);
    const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret }), logging: false, graphiql: false });
    const server = await serve(gateway);
    return {
      server,
      async close() {
        await server.close();
        await gateway.dispose();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** The order in which every round (and the warm-in) loads the scenarios. */
const SCENARIO_ORDER = ['projects', 'tasks', 'project', 'projects-all'] as const;

type RunSpec = Pick<HttpRoundRun, 'scenario' | 'server' | 'connections' | 'round'>;

/** Warms the server up, then measures one run of it. */
async function measureRun(options: HttpBenchmarkOptions, generator: LoadGenerator, server: ServerProcess, spec: RunSpec): Promise<HttpRoundRun> {
  const { log, monitor } = options;
  const job = { url: server.url, scenario: spec.scenario, dialect: dialectOf(server.name), connections: spec.connections };
  // Before the warm-up, not after it: the warm-up also keeps the pools' connections open.
  await monitor.waitForQuiet();
  if (options.warmup > 0) {
    const warm = await generator.run({ ...job, duration: options.warmup });
    if (failures(warm) > 0) log(`  warm-up of ${spec.server} had ${failures(warm)} bad responses: ${warm.samples.join(' | ')}`);
    await server.drain();
  }
  const endCpu = await monitor.begin(server.pid);
  const before = await server.stats();
  const result = await generator.run({ ...job, duration: options.duration });
  // The CPU window closes once the requests it counts are done (the last ones finish after the client left).
  await server.drain();
  const cpu = await endCpu();
  const after = await server.stats();
  const completed = after.completed - before.completed;
  return {
    ...result,
    ...spec,
    statementsPerRequest: (after.statements - before.statements) / completed,
    serverCompleted: completed,
    cpu,
    serverCpuUsPerRequest: cpu ? (cpu.serverSeconds * 1e6) / completed : Number.NaN,
    postgresCpuUsPerRequest: cpu ? (cpu.postgresSeconds * 1e6) / completed : Number.NaN,
    rssMb: (server.rss() ?? Number.NaN) / 2 ** 20,
  };
}

function logRun(log: (line: string) => void, run: HttpRoundRun, rounds: number): void {
  log(describeRun(run, rounds));
  if (failures(run) === 0) return;
  log(
    `    non-2xx ${run.non2xx} (${JSON.stringify(run.statusCodes)}), connection errors ${run.connectionErrors} (timeouts ${run.timeouts}), ` +
      `GraphQL errors ${run.graphqlErrors}, wrong data ${run.mismatches}`,
  );
  for (const s of run.samples) log(`    e.g. ${s}`);
}

/**
 * `runs`: one per scenario, server and connection count, aggregated over the
 * rounds; `roundRuns`: every measured run.
 */
export async function runHttpBenchmark(
  options: HttpBenchmarkOptions,
): Promise<{ runs: HttpRun[]; roundRuns: HttpRoundRun[]; planCheck: PlanCheck }> {
  const { log, entries, rounds } = options;
  const recorder = recordStatements();
  const servers = new Map<ServerName, ServerProcess>();
  let generator: LoadGenerator | undefined;
  try {
    log(heading('Servers'));
    // The gateway is the reference of the checks, whatever is loaded afterwards.
    for (const name of new Set<ServerName>(['gateway', ...options.servers])) {
      const started = performance.now();
      const server = await startServerProcess(name, { runtimeUrl: options.runtimeUrl, secret: options.secret, log });
      servers.set(name, server);
      log(`  ${name.padEnd(16)} pid ${server.pid}, Node ${server.version}, ${server.url} (started in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    const gateway = servers.get('gateway')!;

    log(heading('Checks'));
    const others = [...servers.values()].filter((s) => s !== gateway);
    const compared = await checkEquivalence(entries, gateway, others);
    log(`  ${others.map((o) => o.name).join(', ')} return the gateway's data (${compared} organizations compared, every scenario each serves)`);
    const probe = await startRecordedGateway(options.runtimeUrl, options.secret, recorder);
    let planCheck: PlanCheck;
    try {
      planCheck = await checkPlans(options, probe.server, recorder);
    } finally {
      await probe.close();
    }

    // The servers alternate for each scenario and connection count, so a drift
    // of the machine during the run hits them alike; the rounds repeat the whole
    // sequence, so that a slow spell spoils one round rather than one server.
    log(heading(rounds > 1 ? `HTTP load (${rounds} rounds)` : 'HTTP load'));
    generator = new LoadGenerator(entries);
    if (options.warmIn > 0) {
      // Every server alike: its first seconds under load are V8 tiering up and the heap growing to its working size
      // (measured in 4 s steps from a fresh start, the gateway's page went 379, 965, 1,143, 1,173 req/s, best-bare's
      // 414, 1,096, 1,254, 1,318), which a 2 s warm-up leaves in the first round's first run.
      const connections = Math.max(...options.connections);
      log(`  warm-in: each server serves each of its queries for ${options.warmIn} s at ${connections} connections (not measured)`);
      for (const scenario of SCENARIO_ORDER) {
        for (const name of options.servers.filter((n) => serves(n, scenario))) {
          const server = servers.get(name)!;
          await generator.run({ url: server.url, scenario, dialect: dialectOf(name), connections, duration: options.warmIn });
          await server.drain();
        }
      }
    }
    const roundRuns: HttpRoundRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of SCENARIO_ORDER) {
        for (const connections of options.connections) {
          for (const name of options.servers.filter((n) => serves(n, scenario))) {
            const run = await measureRun(options, generator, servers.get(name)!, { scenario, server: name, connections, round });
            roundRuns.push(run);
            logRun(log, run, rounds);
          }
        }
      }
    }
    return { runs: aggregateRounds(roundRuns), roundRuns, planCheck };
  } finally {
    await generator?.close();
    for (const served of servers.values()) await served.close();
  }
}
