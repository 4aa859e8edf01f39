/**
 * npm run bench -- [--projects 1000000] [--orgs 1000] [--duration 10] [--json out.json] …
 *
 * Seeds (or reuses) a large dataset in its own database, serves the gateway, the
 * bare baselines and (--peers) PostGraphile each in a process of its own on
 * 127.0.0.1, loads them in turn from a worker thread with autocannon, compares
 * the transaction shapes of the tenant client, and prints the figures next to
 * the targets; --profile and --soak replace all that with a profile of the
 * gateway or a memory soak. `--help` lists the options. Exit code 1 when a load run got bad responses (its figures
 * measure errors), 2 on the time limit.
 */
import './env';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import { redactUrl } from '../src/db/migrate';
import { CpuMonitor, type CpuShare } from './cpu';
import { benchUrls, prepareDataset, sampleOrganizations, tokenEntries, type PreparedDataset } from './database';
import { runHttpBenchmark, type HttpRoundRun, type HttpRun, type PlanCheck } from './http-bench';
import { failures } from './load';
import { parseOptions, type ServerName } from './options';
import { PAGE_INDEX } from './plans';
import { fixed, heading, integer, seconds, table } from './report';
import { ratiosPerRound } from './rounds';
import { runProfile } from './profile';
import { runSoak } from './soak';
import { SCENARIOS, type ScenarioName, type TokenEntry } from './scenarios';
import { MODE_TITLES, runTransactionBenchmark, type TransactionResult } from './transactions';

interface Target {
  name: string;
  value: string;
  verdict: 'PASS' | 'FAIL' | 'INVALID' | 'NOT MEASURED';
  note?: string;
}

/** A run during which other programs took more than this share of one core is flagged. */
const NOISY_OTHER_CPU_PERCENT = 10;

const log = (line: string) => console.log(line);

/** "lowest–highest" of some figures, e.g. of the rounds. */
const range = (values: number[], format: (value: number) => string) =>
  `${format(Math.min(...values))}–${format(Math.max(...values))}`;

const ratio = (value: number) => `${fixed(value, 2)} x`;

const ratioRange = (values: number[]) => `${range(values, (v) => fixed(v, 2))} x`;

/** Judged on the medians of the rounds; a throughput ratio also notes its lowest and highest round. */
function targets(dataset: PreparedDataset, runs: HttpRun[], roundRuns: HttpRoundRun[]): Target[] {
  const find = (scenario: ScenarioName, server: ServerName, connections: number) =>
    runs.find((r) => r.scenario === scenario && r.server === server && r.connections === connections);
  const sizeNote =
    dataset.projects < 1_000_000 ? `measured on ${integer(dataset.projects)} projects; the target is stated for 1,000,000` : undefined;
  const verdict = (ok: boolean, ...involved: (HttpRun | undefined)[]): Target['verdict'] => {
    if (involved.some((r) => r === undefined)) return 'NOT MEASURED';
    if (involved.some((r) => r && failures(r) > 0)) return 'INVALID';
    return ok ? 'PASS' : 'FAIL';
  };

  const single = find('projects', 'gateway', 1);
  const result: Target[] = [
    {
      name: 'projects(first: 20), 1 connection: p50 < 5 ms',
      value: single ? `${fixed(single.latencyMs.p50, 2)} ms` : '-',
      verdict: verdict((single?.latencyMs.p50 ?? Infinity) < 5, single),
      note: sizeNote,
    },
    {
      name: 'projects(first: 20), 1 connection: p99 < 10 ms',
      value: single ? `${fixed(single.latencyMs.p99, 2)} ms` : '-',
      verdict: verdict((single?.latencyMs.p99 ?? Infinity) < 10, single),
      note: sizeNote,
    },
  ];
  for (const scenario of ['projects', 'project'] as const) {
    const g = find(scenario, 'gateway', 50);
    const b = find(scenario, 'baseline', 50);
    const measured = g && b ? g.requestsPerSecond / b.requestsPerSecond : Number.NaN;
    const perRound = g && g.rounds > 1 ? ratiosPerRound(roundRuns, g) : [];
    result.push({
      name: `${SCENARIOS[scenario].title}, 50 connections: throughput >= 0.6 x baseline`,
      value: Number.isFinite(measured) ? ratio(measured) : '-',
      verdict: verdict(measured >= 0.6, g, b),
      note: perRound.length > 0 ? `medians of ${g!.rounds} rounds; per round ${ratioRange(perRound)}` : undefined,
    });
  }
  // A model of one's own (tenantModel) costs what Project costs: the same statements, the same distance to the bare baseline.
  const [gp, bp, gt, bt] = [find('projects', 'gateway', 50), find('projects', 'baseline', 50), find('tasks', 'gateway', 50), find('tasks', 'baseline', 50)];
  const projectsRatio = gp && bp ? gp.requestsPerSecond / bp.requestsPerSecond : Number.NaN;
  const tasksRatio = gt && bt ? gt.requestsPerSecond / bt.requestsPerSecond : Number.NaN;
  result.push({
    name: 'tasks(first: 20) with assignee, 50 connections: ratio to baseline within 10% of the projects page\'s',
    value: Number.isFinite(tasksRatio / projectsRatio) ? `${fixed(tasksRatio, 2)} x vs ${fixed(projectsRatio, 2)} x` : '-',
    verdict: verdict(Math.abs(tasksRatio / projectsRatio - 1) <= 0.1, gp, bp, gt, bt),
  });
  // Issue 18: ahead of PostGraphile, near the best bare server, with usage tracking on.
  for (const scenario of ['projects', 'project'] as const) {
    const title = SCENARIOS[scenario].title;
    const g = find(scenario, 'gateway', 50);
    for (const [reference, least] of [['postgraphile', 1.0], ['best-bare', 0.9]] as const) {
      const p = find(scenario, reference, 50);
      const measured = g && p ? g.requestsPerSecond / p.requestsPerSecond : Number.NaN;
      const perRound = g && p ? ratiosPerRound(roundRuns, g, reference) : [];
      result.push({
        name: `${title}, 50 connections: throughput >= ${fixed(least, 1)} x ${reference}`,
        value: Number.isFinite(measured) ? ratio(measured) : '-',
        verdict: verdict(measured >= least, g, p),
        note: perRound.length > 1 ? `medians of ${perRound.length} rounds; per round ${ratioRange(perRound)}` : undefined,
      });
    }
    const g1 = find(scenario, 'gateway', 1);
    const p1 = find(scenario, 'postgraphile', 1);
    result.push({
      name: `${title}, 1 connection: p99 <= postgraphile's`,
      value: g1 && p1 ? `${fixed(g1.latencyMs.p99, 2)} ms vs ${fixed(p1.latencyMs.p99, 2)} ms` : '-',
      verdict: verdict(!!g1 && !!p1 && g1.latencyMs.p99 <= p1.latencyMs.p99, g1, p1),
    });
  }
  const g1 = find('projects', 'gateway', 1);
  const t1 = find('tasks', 'gateway', 1);
  result.push({
    name: 'tasks(first: 20) with assignee: statements per request = projects(first: 20)\'s',
    value: g1 && t1 ? `${fixed(t1.statementsPerRequest, 1)} vs ${fixed(g1.statementsPerRequest, 1)}` : '-',
    verdict: verdict(!!g1 && !!t1 && Math.abs(t1.statementsPerRequest - g1.statementsPerRequest) < 0.05, g1, t1),
  });
  return result;
}

const cpuCell = (cpu: CpuShare | null, key: keyof CpuShare) => (cpu ? cpu[key].toFixed(0) : 'n/a');

/**
 * Issue 18's comparison: the gateway against PostGraphile and against the best
 * bare server, per scenario and connection count: the ratio of the medians,
 * each round's ratio (the two ran in the same round), and their p50 and p99.
 */
function printPeerRatios(runs: HttpRun[], roundRuns: HttpRoundRun[]): void {
  const rows: string[][] = [];
  for (const g of runs.filter((r) => r.server === 'gateway')) {
    for (const reference of ['postgraphile', 'best-bare'] as const) {
      const p = runs.find((r) => r.server === reference && r.scenario === g.scenario && r.connections === g.connections);
      if (!p) continue;
      rows.push([
        SCENARIOS[g.scenario].title,
        String(g.connections),
        `gateway / ${reference}`,
        ratio(g.requestsPerSecond / p.requestsPerSecond),
        ratiosPerRound(roundRuns, g, reference).map((v) => fixed(v, 2)).join(' '),
        `${fixed(g.latencyMs.p50, 2)} / ${fixed(p.latencyMs.p50, 2)}`,
        `${fixed(g.latencyMs.p99, 2)} / ${fixed(p.latencyMs.p99, 2)}`,
        `${integer(g.serverCpuUsPerRequest)} / ${integer(p.serverCpuUsPerRequest)}`,
        `${integer(g.postgresCpuUsPerRequest)} / ${integer(p.postgresCpuUsPerRequest)}`,
      ]);
    }
  }
  if (rows.length === 0) return;
  log(
    table(
      ['query', 'conns', 'pair', 'throughput', 'per round', 'p50 ms', 'p99 ms', 'server µs/req', 'pg µs/req'],
      rows,
      ['left', 'right', 'left', 'right', 'left', 'right', 'right', 'right', 'right'],
    ),
  );
  log('throughput: ratio of the medians of the rounds; per round: each round\'s ratio; the other columns: gateway / the other.');
  log('');
}

function printSummary(
  dataset: PreparedDataset,
  duration: number,
  runs: HttpRun[],
  roundRuns: HttpRoundRun[],
  transactions: TransactionResult[],
): void {
  const rounds = runs[0]?.rounds ?? 1;
  log(heading('Summary'));
  log(
    `${integer(dataset.projects)} projects / ${integer(dataset.orgs)} organizations (${dataset.action}${dataset.action === 'seeded' ? ` in ${seconds(dataset.seedSeconds)}` : ''}); ` +
      `${duration} s per load run${rounds > 1 ? `, ${rounds} rounds` : ''}; ${os.cpus().length} CPUs shared by PostgreSQL, both servers and the load generator.`,
  );
  log('CPU columns: percent of one core used during the run by this process (servers + load generator), by PostgreSQL, by anything else.');
  if (rounds > 1) {
    log(
      `HTTP load: every figure is the median of ${rounds} rounds, "bad" their total; ` +
        'req/s range: the slowest and the fastest round.',
    );
  }
  if (runs.length > 0) {
    // The spread of the rounds, next to their median, only when there were rounds.
    const ranged = <T>(cell: T): T[] => (rounds > 1 ? [cell] : []);
    log('');
    log(
      table(
        ['query', 'conns', 'server', 'req/s', ...ranged('req/s range'), 'p50 ms', 'p99 ms', 'mean ms', 'stmts/req', 'server µs/req', 'pg µs/req', 'rss MB', 'bad', 'cpu server', 'cpu harness', 'cpu pg', 'cpu other'],
        runs.map((r) => [
          SCENARIOS[r.scenario].title,
          String(r.connections),
          r.server,
          integer(r.requestsPerSecond),
          ...ranged(range([r.requestsPerSecondRange.min, r.requestsPerSecondRange.max], integer)),
          fixed(r.latencyMs.p50, 2),
          fixed(r.latencyMs.p99, 2),
          fixed(r.latencyMs.mean, 2),
          fixed(r.statementsPerRequest, 1),
          integer(r.serverCpuUsPerRequest),
          integer(r.postgresCpuUsPerRequest),
          integer(r.rssMb),
          String(failures(r)),
          cpuCell(r.cpu, 'server'),
          cpuCell(r.cpu, 'self'),
          cpuCell(r.cpu, 'postgres'),
          cpuCell(r.cpu, 'other'),
        ]),
        ['left', 'right', 'left', 'right', ...ranged('right' as const), 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    log(
      'server µs/req: CPU time of the server\'s process (/proc/<pid>/stat) per request it finished; pg µs/req: of the ' +
        'PostgreSQL processes of the bench database; rss MB: the server\'s resident memory at the end of the run.',
    );
    log('');
    printPeerRatios(runs, roundRuns);
    const ratioRows: string[][] = [];
    for (const g of runs.filter((r) => r.server !== 'baseline')) {
      const b = runs.find((r) => r.server === 'baseline' && r.scenario === g.scenario && r.connections === g.connections);
      if (!b) continue;
      ratioRows.push([
        SCENARIOS[g.scenario].title,
        String(g.connections),
        g.server,
        integer(g.requestsPerSecond),
        integer(b.requestsPerSecond),
        ratio(g.requestsPerSecond / b.requestsPerSecond),
        ...ranged(ratioRange(ratiosPerRound(roundRuns, g))),
        ratio(g.latencyMs.p50 / b.latencyMs.p50),
      ]);
    }
    if (ratioRows.length > 0) {
      log(
        table(
          ['query', 'conns', 'server', 'req/s', 'baseline req/s', 'throughput / baseline', ...ranged('per round'), 'p50 / baseline'],
          ratioRows,
          ['left', 'right', 'left', 'right', 'right', 'right', ...ranged('right' as const), 'right'],
        ),
      );
      if (rounds > 1) {
        log(
          'throughput / baseline: ratio of the medians; per round: the lowest and the highest of the ratios taken ' +
            'round by round, each of a gateway and a baseline run back to back.',
        );
      }
    }
  }
  if (transactions.length > 0) {
    log('');
    log(
      table(
        ['transaction mode', 'concurrency', 'units', 'units/s', 'mean ms', 'p50 ms', 'p99 ms', 'stmts/unit', 'late/early', 'failed', 'cpu self', 'cpu pg', 'cpu other'],
        transactions.map((t) => [
          MODE_TITLES[t.mode],
          String(t.concurrency),
          `${integer(t.units)}${t.capped ? '*' : ''}`,
          integer(t.unitsPerSecond),
          fixed(t.meanMs, 2),
          fixed(t.p50Ms, 2),
          fixed(t.p99Ms, 2),
          fixed(t.statementsPerUnit, 1),
          fixed(t.lateOverEarly, 2),
          String(t.errors),
          cpuCell(t.cpu, 'self'),
          cpuCell(t.cpu, 'postgres'),
          cpuCell(t.cpu, 'other'),
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    log('late/early: throughput of the last fifth of the units over the first fifth (1 = steady; below 1 = slowing down as it runs).');
    if (transactions.some((t) => t.capped)) log('*: stopped by the time limit (--tx-max-seconds) before all the units ran.');
  }
  // Each round's run on its own: a median can hide a spoiled round, the warning should not.
  const noisy = [...roundRuns.map((r) => r.cpu), ...transactions.map((t) => t.cpu)].filter((c) => c && c.other > NOISY_OTHER_CPU_PERCENT);
  if (noisy.length > 0) {
    log(
      `\nWARNING: other programs used more than ${NOISY_OTHER_CPU_PERCENT}% of a core during ${noisy.length} measurement(s) ` +
        `(see "cpu other"): those figures are low by that much. Run again on a quiet machine.`,
    );
  }
}

/** The commit measured, and whether src/ or prisma/ had uncommitted changes: the figures belong to that code. */
function revision(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: `${__dirname}/..`, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src', 'prisma', 'package.json').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in src/, prisma/` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

async function serverVersion(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  return rows[0].server_version;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  const started = performance.now();
  // Bounded in time whatever happens (a hung connection, a stuck server): the
  // process ends with an error rather than hanging a CI job.
  const watchdog = setTimeout(() => {
    console.error(`\nbench: still running after ${options.timeoutMinutes} min (--timeout-minutes); aborting.`);
    process.exit(2);
  }, options.timeoutMinutes * 60_000);
  watchdog.unref();

  const urls = benchUrls();
  const code = revision();
  log(heading('tenantgate benchmark'));
  log(`  code:            ${code}`);
  log(`  database server: ${redactUrl(urls.serverUrl)}; bench database: ${redactUrl(urls.adminUrl)}`);
  log(`  runtime role:    ${redactUrl(urls.runtimeUrl)}`);
  log(`  machine:         ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, NODE_ENV=${process.env.NODE_ENV}`);
  log(
    `  asked for:       ${integer(options.projects)} projects, ${integer(options.orgs)} organizations, ${options.usersPerOrg} members each; ` +
      `load runs of ${options.duration} s (+${options.warmup} s warm-up) at ${options.connections.join(' and ')} connection(s)` +
      `${options.rounds > 1 ? `, ${options.rounds} rounds` : ''}`,
  );

  log(heading('Dataset'));
  const dataset = await prepareDataset(urls, {
    size: { projects: options.projects, orgs: options.orgs, usersPerOrg: options.usersPerOrg },
    skipSeed: options.skipSeed,
    reseed: options.reseed,
    log,
  });

  // Kept open for the whole run: the CPU monitor asks it which server processes are ours.
  const admin = new pg.Client({ connectionString: urls.adminUrl, application_name: 'tenantgate-bench-monitor' });
  await admin.connect();
  try {
    const monitor = new CpuMonitor(admin, options.waitQuiet, NOISY_OTHER_CPU_PERCENT, log);
    const postgres = await serverVersion(admin);
    log(
      `  ${dataset.action === 'seeded' ? `seeded in ${seconds(dataset.seedSeconds)}` : `${dataset.action} (seeded ${dataset.seededAt ?? 'at an unknown time'})`}: ` +
        `${integer(dataset.projects)} projects, ${integer(dataset.orgs)} organizations, ${integer(dataset.users)} users, ` +
        `${integer(dataset.memberships)} memberships; PostgreSQL ${postgres}`,
    );

    // Who calls: a random sample of organizations, a member of each, some of its projects.
    const sample = await sampleOrganizations(urls.adminUrl, options.sampleOrgs);
    if (sample.length === 0) throw new Error('the bench database has no organization with members and projects');
    const secret = randomBytes(32).toString('hex');
    const entries: TokenEntry[] = await tokenEntries(sample, secret);
    log(`  tokens for ${entries.length} random organizations; each request picks one of them at random`);

    // The two modes that replace the comparison: the soak (memory) and the profile (where the time goes).
    if (options.soak !== undefined) {
      const soak = await runSoak({ runtimeUrl: urls.runtimeUrl, secret, entries, seconds: options.soak, log });
      if (options.json) await writeFile(options.json, `${JSON.stringify({ argv: process.argv.slice(2), code, soak }, null, 2)}\n`);
      clearTimeout(watchdog);
      return soak.bad > 0 ? 1 : 0;
    }
    if (options.profile) {
      await runProfile({ runtimeUrl: urls.runtimeUrl, secret, admin, monitor, entries, duration: options.duration, warmup: options.warmup, queries: options.profileQueries, server: options.profileServer, log });
      clearTimeout(watchdog);
      return 0;
    }

    let runs: HttpRun[] = [];
    let roundRuns: HttpRoundRun[] = [];
    let planCheck: PlanCheck | null = null;
    if (!options.skipHttp) {
      ({ runs, roundRuns, planCheck } = await runHttpBenchmark({
        runtimeUrl: urls.runtimeUrl,
        secret,
        entries,
        sample,
        connections: options.connections,
        servers: options.servers,
        duration: options.duration,
        warmup: options.warmup,
        warmIn: options.warmIn,
        rounds: options.rounds,
        monitor,
        log,
      }));
    }

    // Which transaction shape: measured on the same client the gateway uses.
    let transactions: TransactionResult[] = [];
    if (!options.skipTransactions) {
      log(heading('Transaction modes (runtime Prisma client, pool of 10, one worker thread per row)'));
      log(
        `  unit = membership check + page of 20 projects + owners by id; ${integer(options.iterations)} units per row after a warm-up ` +
          `(at most ${options.txMaxSeconds} s per row)`,
      );
      transactions = await runTransactionBenchmark({
        runtimeUrl: urls.runtimeUrl,
        sample,
        iterations: options.iterations,
        concurrencies: options.connections,
        maxSeconds: options.txMaxSeconds,
        monitor,
        log,
      });
    }

    const totalSeconds = (performance.now() - started) / 1000;
    printSummary(dataset, options.duration, runs, roundRuns, transactions);
    const verdicts = runs.length > 0 ? targets(dataset, runs, roundRuns) : [];
    if (verdicts.length > 0 || planCheck) log('\nTargets:');
    for (const t of verdicts) log(`  [${t.verdict}] ${t.name}: ${t.value}${t.note ? ` (${t.note})` : ''}`);
    if (planCheck) log(`  [${planCheck.gatewayPageUsesIndex ? 'PASS' : 'FAIL'}] projects page read by an index scan on ${PAGE_INDEX}`);
    if (planCheck) {
      log(
        `  [${planCheck.allPageUsesIndexes ? 'PASS' : 'FAIL'}] projects(scope: ALL) page: own, shared and public branches each read by an index ` +
          `(${fixed(planCheck.allPageMs, 2)} ms in PostgreSQL for its ${planCheck.allPagePlans.length} queries, EXPLAIN ANALYZE as the runtime role)`,
      );
    }
    log(`\nTotal time ${seconds(totalSeconds)}${dataset.action === 'seeded' ? ` (seed ${seconds(dataset.seedSeconds)})` : ''}.`);

    if (options.json) {
      const figures = {
        startedAt: new Date(Date.now() - totalSeconds * 1000).toISOString(),
        argv: process.argv.slice(2),
        code,
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, postgres, nodeEnv: process.env.NODE_ENV },
        options,
        dataset,
        sampleOrganizations: entries.length,
        planCheck,
        // Aggregated over the rounds (medians), as in the summary; every measured run in httpRounds.
        http: runs,
        httpRounds: roundRuns,
        transactions,
        targets: verdicts,
        totalSeconds,
      };
      await writeFile(options.json, `${JSON.stringify(figures, null, 2)}\n`);
      log(`Figures written to ${options.json}.`);
    }

    clearTimeout(watchdog);
    return runs.some((r) => failures(r) > 0) ? 1 : 0;
  } finally {
    await admin.end();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was closed above; should some handle still keep the process
    // alive, do not hang: leave after a grace period.
    setTimeout(() => {
      console.error('bench: something kept the process alive after the run; exiting.');
      process.exit(code);
    }, 5000).unref();
  },
  (error: Error) => {
    console.error(`\nbench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
