import type { Worker } from 'node:worker_threads';
import type { Dialect, ScenarioName, TokenEntry } from './scenarios';
import { startWorker } from './worker';

/** One load run, as the main thread asks the worker for it. */
export interface LoadJob {
  id: number;
  url: string;
  scenario: ScenarioName;
  /** How the server spells the request (PostGraphile has a schema of its own). */
  dialect: Dialect;
  connections: number;
  /** Seconds. */
  duration: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** What the load generator saw. Latencies in milliseconds. */
export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors, timeouts included. */
  connectionErrors: number;
  timeouts: number;
  /** 2xx responses that carried `errors`. */
  graphqlErrors: number;
  /** 2xx responses without errors whose data was not what the organization must get. */
  mismatches: number;
  /** The first few bad responses, truncated, to show what went wrong. */
  samples: string[];
}

export interface WorkerInput {
  entries: TokenEntry[];
}

export type WorkerMessage = { id: number; result: LoadResult } | { id: number; error: string };

/** Responses that make a run worthless as a benchmark. */
export function failures(result: LoadResult): number {
  return result.non2xx + result.connectionErrors + result.graphqlErrors + result.mismatches;
}

/**
 * The load generator: one worker thread running autocannon, one job at a time.
 */
export class LoadGenerator {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();

  constructor(entries: TokenEntry[]) {
    this.worker = startWorker('load-worker.ts', { entries } satisfies WorkerInput);
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: WorkerMessage) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if ('error' in message) waiter.reject(new Error(`load generator: ${message.error}`));
      else waiter.resolve(message.result);
    });
    const failAll = (error: Error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`load generator exited with code ${code}`)));
  }

  run(job: Omit<LoadJob, 'id'>): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise<LoadResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id } satisfies LoadJob);
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage('exit');
    // A worker that does not leave on its own within a few seconds is stopped.
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
