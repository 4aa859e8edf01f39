import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running a TypeScript module of bench/. tsx's hooks do
 * not reach a worker started from a .ts path, so the worker's first line
 * registers them (tsx/cjs) and then loads the module.
 */
export function startWorker(moduleName: string, workerData: unknown): Worker {
  const tsx = require.resolve('tsx/cjs');
  const file = path.join(__dirname, moduleName);
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`, { eval: true, workerData });
}
