import type { CpuShare } from './cpu';
import type { HttpRoundRun, HttpRun } from './http-bench';
import type { ServerName } from './options';

/**
 * Folding the rounds of `--rounds` into one run per scenario, server and
 * connection count. On a small shared machine one run can be a third off;
 * the median of several ignores the round that a neighbour spoiled, where a
 * mean would carry it.
 */

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

function sumCounts(counts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of counts) for (const [key, n] of Object.entries(c)) total[key] = (total[key] ?? 0) + n;
  return total;
}

/** Each share's median over the rounds that could measure it (none without /proc). */
function medianShare(shares: (CpuShare | null)[]): CpuShare | null {
  const measured = shares.filter((s): s is CpuShare => s !== null);
  if (measured.length === 0) return null;
  const m = (key: keyof CpuShare) => median(measured.map((s) => s[key]));
  return {
    self: m('self'),
    server: m('server'),
    postgres: m('postgres'),
    other: m('other'),
    serverSeconds: m('serverSeconds'),
    postgresSeconds: m('postgresSeconds'),
  };
}

/**
 * The rounds of one scenario, server and connection count as one run: figures
 * are medians; counts (responses, bad responses, seconds) are totals, so that
 * a bad response in any round still shows and still fails the benchmark.
 */
function aggregate(rounds: HttpRoundRun[]): HttpRun {
  const [first] = rounds;
  const latency = (key: keyof HttpRun['latencyMs']) => median(rounds.map((r) => r.latencyMs[key]));
  const requestsPerSecond = rounds.map((r) => r.requestsPerSecond);
  return {
    scenario: first.scenario,
    server: first.server,
    connections: first.connections,
    rounds: rounds.length,
    requestsPerSecond: median(requestsPerSecond),
    requestsPerSecondRange: { min: Math.min(...requestsPerSecond), max: Math.max(...requestsPerSecond) },
    latencyMs: {
      p50: latency('p50'),
      p90: latency('p90'),
      p99: latency('p99'),
      mean: latency('mean'),
      // The worst response of all the rounds, as for one run.
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    statementsPerRequest: median(rounds.map((r) => r.statementsPerRequest)),
    cpu: medianShare(rounds.map((r) => r.cpu)),
    serverCpuUsPerRequest: median(rounds.map((r) => r.serverCpuUsPerRequest)),
    postgresCpuUsPerRequest: median(rounds.map((r) => r.postgresCpuUsPerRequest)),
    // The last round's: memory is a level, not a rate.
    rssMb: rounds[rounds.length - 1].rssMb,
    responses: sum(rounds.map((r) => r.responses)),
    durationSeconds: sum(rounds.map((r) => r.durationSeconds)),
    serverCompleted: sum(rounds.map((r) => r.serverCompleted)),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    statusCodes: sumCounts(rounds.map((r) => r.statusCodes)),
    connectionErrors: sum(rounds.map((r) => r.connectionErrors)),
    timeouts: sum(rounds.map((r) => r.timeouts)),
    graphqlErrors: sum(rounds.map((r) => r.graphqlErrors)),
    mismatches: sum(rounds.map((r) => r.mismatches)),
    samples: rounds.flatMap((r) => r.samples).slice(0, 5),
  };
}

const key = (r: Pick<HttpRoundRun, 'scenario' | 'server' | 'connections'>) => `${r.scenario}|${r.server}|${r.connections}`;

/** One run per scenario, server and connection count, in the order they were first measured. */
export function aggregateRounds(runs: HttpRoundRun[]): HttpRun[] {
  const groups = new Map<string, HttpRoundRun[]>();
  for (const run of runs) groups.set(key(run), [...(groups.get(key(run)) ?? []), run]);
  return [...groups.values()].map(aggregate);
}

/**
 * `run`'s throughput over the reference's (the baseline unless named), round
 * by round. Each pair ran in the same round, so a drift of the machine cancels
 * out in it better than in the ratio of the medians, which may come from
 * different rounds.
 */
export function ratiosPerRound(runs: HttpRoundRun[], run: HttpRun, reference: ServerName = 'baseline'): number[] {
  const baseline = { ...run, server: reference };
  const ratios: number[] = [];
  for (const r of runs.filter((r) => key(r) === key(run))) {
    const b = runs.find((candidate) => candidate.round === r.round && key(candidate) === key(baseline));
    if (b) ratios.push(r.requestsPerSecond / b.requestsPerSecond);
  }
  return ratios;
}
