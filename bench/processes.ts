import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { builtSchema } from '../src/db/schemas';
import type { ServerName } from './options';
import { ensurePeers, POSTGRAPHILE_SERVER } from './peers';
import type { ChildMessage, ParentMessage, ProcessKind, ServerProcessConfig, ServerTrace } from './server-process';

/**
 * The servers under test as child processes (bench/server-process.ts, and
 * PostGraphile's bench/peers/postgraphile-server.mjs on Node 22), each with its
 * own pool of 10 connections as the runtime role. The parent reads their
 * request and statement counts over IPC, and their CPU time and memory from
 * /proc/<pid>.
 */

/**
 * The V8 flags `npm start` runs the gateway with (package.json; docs/adr/0081-young-generation-size.md,
 * 0093-no-allocation-site-pretenuring.md), given to every server alike, PostGraphile included, so that
 * they compare code and not flags.
 */
export const SERVER_V8_FLAGS = ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'];

const BUILD_DIR = path.join(__dirname, '..', '.tmp', 'bench-build');
let built: string | null = null;

/**
 * bench/server-process.ts and the gateway compiled by tsc, as `npm run build`
 * compiles it for `npm run start:prod`: the servers run as plain JavaScript, as
 * deployed, not under tsx (whose loader adds a `__name` call to every named
 * function: about 1% of a page's CPU). Built once per run, into .tmp/ (ignored).
 */
function builtServerProcess(log: (line: string) => void): string {
  if (built) return built;
  const started = Date.now();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.server.json')], { stdio: 'inherit' });
  // What scripts/build.mjs copies beside the compiled gateway: the dashboard's browser script.
  cpSync(path.join(__dirname, '..', 'src', 'ops', 'dashboard', 'page.js'), path.join(BUILD_DIR, 'src', 'ops', 'dashboard', 'page.js'));
  log(`  servers compiled by tsc into .tmp/bench-build in ${((Date.now() - started) / 1000).toFixed(1)} s (run as plain JavaScript, as \`npm run start:prod\` runs the gateway)`);
  built = path.join(BUILD_DIR, 'bench', 'server-process.js');
  return built;
}

export interface ServerProcess {
  name: ServerName;
  url: string;
  pid: number;
  /** The Node version it runs on. */
  version: string;
  stats(): Promise<{ completed: number; statements: number; inFlight: number }>;
  /** Waits until no request is in flight and no handler runs (at most `timeoutMs`, 30 s by default: a loaded machine). */
  drain(timeoutMs?: number): Promise<void>;
  /** Resident memory now, in bytes (null without /proc). */
  rss(): number | null;
  /** CPU profile of the window between the two calls (bench/server-process.ts only, not PostGraphile). */
  profileStart(intervalUs?: number): Promise<void>;
  profileStop(file: string): Promise<void>;
  /** Per-request timing and GC between the two calls (bench/server-process.ts only). */
  traceStart(): Promise<void>;
  traceStop(): Promise<ServerTrace>;
  /** Asks it to leave and waits for it (killed after 10 s). */
  close(): Promise<void>;
}

export interface StartOptions {
  runtimeUrl: string;
  secret: string;
  log: (line: string) => void;
  /** Extra Node options, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeOptions?: string[];
  /** Seconds to wait for it to listen. @default 120 (a cold gateway on a loaded machine is slow). */
  startTimeoutSeconds?: number;
  /** See ServerProcessConfig.traced. */
  traced?: boolean;
}

/** Resident set size of a process, from /proc/<pid>/status. */
export function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function startServerProcess(name: ServerName, options: StartOptions): Promise<ServerProcess> {
  const config: ServerProcessConfig = { runtimeUrl: options.runtimeUrl, secret: options.secret, poolSize: 10, schema: builtSchema(), traced: options.traced };
  const env = { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config), GRAPHILE_ENV: 'production' };
  let child: ChildProcess;
  if (name === 'postgraphile') {
    const runtime = ensurePeers(options.log);
    child = fork(POSTGRAPHILE_SERVER, [], { execPath: runtime.node, execArgv: [...SERVER_V8_FLAGS, ...(options.nodeOptions ?? [])], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  } else {
    child = fork(builtServerProcess(options.log), [name satisfies ProcessKind], {
      execArgv: [...SERVER_V8_FLAGS, ...(options.nodeOptions ?? [])],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let nextId = 1;
  const waiting = new Map<number, (message: ChildMessage) => void>();
  child.on('message', (message: ChildMessage) => {
    if ('id' in message) {
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    }
  });
  const ask = (message: Extract<ParentMessage, { id: number }>): Promise<ChildMessage> =>
    new Promise((resolve, reject) => {
      waiting.set(message.id, resolve);
      child.send(message, (error) => error && reject(error));
      void exited.then(() => reject(new Error(`${name} server process exited`)));
    });

  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} server process did not listen within ${options.startTimeoutSeconds ?? 120} s`)), (options.startTimeoutSeconds ?? 120) * 1000);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} server process exited with code ${code} before listening`));
    });
  }).catch((error: Error) => {
    child.kill('SIGKILL');
    throw error;
  });

  return {
    name,
    url: ready.url,
    pid: ready.pid,
    version: ready.version,
    async stats() {
      const reply = await ask({ type: 'stats', id: nextId++ });
      if (reply.type !== 'stats') throw new Error(`${name}: unexpected reply ${reply.type}`);
      return { completed: reply.completed, statements: reply.statements, inFlight: reply.inFlight };
    },
    async drain(timeoutMs = 30_000) {
      await ask({ type: 'drain', id: nextId++, timeoutMs });
    },
    rss: () => rssOf(ready.pid),
    async profileStart(intervalUs) {
      await ask({ type: 'profile-start', id: nextId++, intervalUs });
    },
    async profileStop(file) {
      await ask({ type: 'profile-stop', id: nextId++, file });
    },
    async traceStart() {
      await ask({ type: 'trace-start', id: nextId++ });
    },
    async traceStop() {
      const reply = await ask({ type: 'trace-stop', id: nextId++ });
      if (reply.type !== 'trace') throw new Error(`${name}: unexpected reply ${reply.type}`);
      return { requests: reply.requests, gcs: reply.gcs, marks: reply.marks };
    },
    async close() {
      if (child.exitCode !== null) return;
      child.send({ type: 'close' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
