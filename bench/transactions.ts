import type { Worker } from 'node:worker_threads';
import { describeShare, type CpuMonitor, type CpuShare } from './cpu';
import type { SampledOrganization } from './database';
import { startWorker } from './worker';

/**
 * Which transaction shape should a request use? Measured on the runtime Prisma
 * client with the tenant client, for the "request-shaped" unit of work that the
 * gateway does for `projects(first: 20)`: the membership check, a page of 20
 * projects, the page's owners by id.
 *
 * (a) batch: each operation on its own, as the gateway does today:
 *     BEGIN; SET LOCAL …; <operation>; COMMIT, three times.
 * (b) interactive: the tenant client's `$transaction(async () => …)`, the three
 *     operations issued on the tenant client inside it (routed to the open
 *     transaction): BEGIN; SET LOCAL …; three operations; COMMIT.
 * (b') the same statements as (b) on Prisma's own interactive transaction,
 *     without the tenant client: the control for (b), what its routing costs.
 *
 * Each measurement runs in a fresh worker thread with its own pool of 10, so
 * nothing one leaves behind in the thread taxes the next. That is not
 * hypothetical: on Node 20 every AsyncLocalStorage that has once been `run()`
 * stays registered for the life of the thread and every later promise pays a
 * loop over all of them; the tenant client used to create one per client (per
 * request), and (b) then slowed down with every unit it ran (fixed in 717ebb4).
 * "late/early" shows such a drift within a measurement.
 */

export type TransactionMode = 'batch' | 'interactive' | 'interactive-direct';

export const MODES: TransactionMode[] = ['batch', 'interactive', 'interactive-direct'];

export const MODE_TITLES: Record<TransactionMode, string> = {
  batch: '(a) batch transaction per operation',
  interactive: "(b) tenant client's interactive $transaction",
  'interactive-direct': "(b') same SQL as (b), Prisma's own tx",
};

/** What a worker is asked to run. */
export interface TransactionJob {
  runtimeUrl: string;
  sample: SampledOrganization[];
  mode: TransactionMode;
  concurrency: number;
  poolSize: number;
  warmup: number;
  iterations: number;
  /** No new unit starts after this many seconds: (b) slows down quadratically, and the run must end. */
  maxSeconds: number;
}

/** Raw figures of a run, from the worker; times from performance.now() in the worker. */
export interface UnitTimings {
  startedAt: number;
  endedAt: number;
  latencies: number[];
  finishedAt: number[];
  errors: number;
  firstError?: string;
  statements: number;
  /** True when maxSeconds stopped the run before all the units were started. */
  capped: boolean;
}

export type TransactionWorkerMessage = { kind: 'ready' } | { kind: 'done'; timings: UnitTimings } | { kind: 'error'; error: string };

export interface TransactionResult {
  mode: TransactionMode;
  concurrency: number;
  /** Units that succeeded. */
  units: number;
  seconds: number;
  unitsPerSecond: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Statements sent to PostgreSQL per unit, BEGIN and COMMIT included: the round trips. */
  statementsPerUnit: number;
  /** Throughput of the last fifth of the units over that of the first fifth: 1 is steady, below 1 slowing down. */
  lateOverEarly: number;
  /** Units that failed (e.g. Prisma's "Unable to start a transaction in the given time"). */
  errors: number;
  firstError?: string;
  /** Stopped by the time limit before all the units ran. */
  capped: boolean;
  cpu: CpuShare | null;
}

export interface TransactionBenchmarkOptions {
  runtimeUrl: string;
  sample: SampledOrganization[];
  iterations: number;
  concurrencies: number[];
  /** Per measurement. */
  maxSeconds: number;
  monitor: CpuMonitor;
  log: (line: string) => void;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Throughput of the last fifth of the completions over that of the first fifth. */
function drift(timings: UnitTimings): number {
  const done = [...timings.finishedAt].sort((a, b) => a - b);
  const fifth = Math.floor(done.length / 5);
  if (fifth < 10) return Number.NaN;
  const early = done[fifth - 1] - timings.startedAt;
  const late = done[done.length - 1] - done[done.length - 1 - fifth];
  return early / late;
}

function summarize(mode: TransactionMode, concurrency: number, timings: UnitTimings, cpu: CpuShare | null): TransactionResult {
  const units = timings.latencies.length;
  const seconds = (timings.endedAt - timings.startedAt) / 1000;
  const sorted = Float64Array.from(timings.latencies).sort();
  return {
    mode,
    concurrency,
    units,
    seconds,
    unitsPerSecond: units / seconds,
    meanMs: units ? timings.latencies.reduce((sum, v) => sum + v, 0) / units : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    statementsPerUnit: timings.statements / (units + timings.errors),
    lateOverEarly: drift(timings),
    errors: timings.errors,
    firstError: timings.firstError,
    capped: timings.capped,
    cpu,
  };
}

/** Resolves with the worker's next message of the expected kind; rejects on its error or exit. */
function nextMessage<K extends TransactionWorkerMessage['kind']>(
  worker: Worker,
  kind: K,
): Promise<Extract<TransactionWorkerMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.off('exit', onExit);
    };
    const onMessage = (message: TransactionWorkerMessage) => {
      cleanup();
      if (message.kind === 'error') reject(new Error(`transaction benchmark worker: ${message.error}`));
      else if (message.kind === kind) resolve(message as Extract<TransactionWorkerMessage, { kind: K }>);
      else reject(new Error(`transaction benchmark worker: expected ${kind}, got ${message.kind}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`transaction benchmark worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', reject);
    worker.on('exit', onExit);
  });
}

async function measure(options: TransactionBenchmarkOptions, mode: TransactionMode, concurrency: number): Promise<TransactionResult> {
  const job: TransactionJob = {
    runtimeUrl: options.runtimeUrl,
    sample: options.sample,
    mode,
    concurrency,
    poolSize: 10,
    warmup: Math.min(300, Math.max(50, Math.round(options.iterations / 10))),
    iterations: options.iterations,
    maxSeconds: options.maxSeconds,
  };
  await options.monitor.waitForQuiet();
  const worker = startWorker('transactions-worker.ts', job);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    await nextMessage(worker, 'ready');
    const endCpu = await options.monitor.begin();
    const done = nextMessage(worker, 'done');
    worker.postMessage('go');
    const { timings } = await done;
    return summarize(mode, concurrency, timings, await endCpu());
  } finally {
    // The worker closes its pool after reporting and leaves; give it a moment, then make sure.
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runTransactionBenchmark(options: TransactionBenchmarkOptions): Promise<TransactionResult[]> {
  const results: TransactionResult[] = [];
  for (const concurrency of options.concurrencies) {
    for (const mode of MODES) {
      const result = await measure(options, mode, concurrency);
      options.log(
        `  ${MODE_TITLES[mode].padEnd(45)} concurrency ${String(concurrency).padStart(2)}: ` +
          `${result.unitsPerSecond.toFixed(0)} units/s, mean ${result.meanMs.toFixed(2)} ms, ` +
          `${result.statementsPerUnit.toFixed(1)} statements/unit, late/early ${result.lateOverEarly.toFixed(2)}; ${describeShare(result.cpu)}`,
      );
      if (result.capped) options.log(`    stopped after ${options.maxSeconds} s with ${result.units + result.errors} of ${options.iterations} units done`);
      if (result.errors > 0) options.log(`    ${result.errors} units FAILED, e.g. ${result.firstError}`);
      results.push(result);
    }
  }
  return results;
}
