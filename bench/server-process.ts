/**
 * One server under test, in a process of its own (started by bench/processes.ts
 * as `node .tmp/bench-build/bench/server-process.js <kind>`, compiled by tsc as
 * `npm run build` compiles the gateway), so that its CPU time and memory are its
 * own and the load generator does not share its event loop:
 *   gateway            src/yoga.ts as deployed (usage tracking on)
 *   gateway-no-usage   the same with usage: false
 *   gateway-prisma-reads  the gateway with compiled reads off (Prisma's runtime for every read)
 *   gateway-interpreted   the gateway with GRAPHQL_JIT off (every operation interpreted by the graphql-tools executor)
 *   baseline           bench/baseline.ts, the old yardstick
 *   best-bare          bench/best-bare.ts, one round trip per request
 * PostGraphile has its own entry (bench/peers/postgraphile-server.mjs, Node 22)
 * and speaks the same IPC: {type:'ready', url, pid} once listening; answers
 * {type:'stats'} and {type:'drain'}; on {type:'close'} it closes its pool and
 * leaves with process.exit(0), so that a `--cpu-prof` profile is written.
 */
import './env';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, performance, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { AccessCache } from '../src/auth/access-cache';
import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { assertRuntimeRole } from '../src/db/runtime-role';
import { createGateway } from '../src/yoga';
import { createBaseline } from './baseline';
import { createBestBare } from './best-bare';
import { serve, type Handler } from './http-server';

export type ProcessKind = 'gateway' | 'gateway-no-usage' | 'gateway-prisma-reads' | 'gateway-interpreted' | 'baseline' | 'best-bare';

export interface ServerProcessConfig {
  runtimeUrl: string;
  secret: string;
  poolSize?: number;
  /** tenantgate's schema (src/db/schemas.ts): PostGraphile serves it and the application's, public. */
  schema?: string;
  /** Built to be traced (`trace-start`, bench/tail.ts): off in the benchmark, which measures the gateway as deployed. */
  traced?: boolean;
}

export type ParentMessage =
  | { type: 'stats'; id: number }
  | { type: 'drain'; id: number; timeoutMs?: number }
  /** A CPU profile (V8's sampling profiler, as --cpu-prof) from `profile-start` to `profile-stop`, written to `file`. */
  | { type: 'profile-start'; id: number; intervalUs?: number }
  | { type: 'profile-stop'; id: number; file: string }
  /** Per-request timing from `trace-start` to `trace-stop` (bench/tail.ts). */
  | { type: 'trace-start'; id: number }
  | { type: 'trace-stop'; id: number }
  | { type: 'close' };

export type ChildMessage =
  | { type: 'ready'; url: string; pid: number; version: string }
  | { type: 'stats'; id: number; completed: number; statements: number; inFlight: number }
  | { type: 'drained'; id: number }
  | { type: 'profile-started'; id: number }
  | { type: 'profile-written'; id: number; file: string }
  | { type: 'trace-started'; id: number }
  | ({ type: 'trace'; id: number } & ServerTrace);

/**
 * What a server did while traced, times in ms of performance.now(): each
 * request's handler call and response end, and whether its access check was
 * remembered; each garbage collection.
 */
export interface ServerTrace {
  requests: { start: number; end: number; accessCacheMisses: number }[];
  gcs: { start: number; duration: number; kind: number }[];
  /** Statements of note, when they were sent: a usage flush, a remembered check that reads the usage, a full check. */
  marks: { at: number; label: 'usage flush' | 'usage read' | 'full check' }[];
}

interface Started {
  handler: Handler;
  statements(): number;
  close(): Promise<void>;
}

async function start(kind: ProcessKind, config: ServerProcessConfig): Promise<Started> {
  const poolSize = config.poolSize ?? 10;
  if (kind === 'baseline') {
    const b = createBaseline({ runtimeUrl: config.runtimeUrl, secret: config.secret, poolSize });
    return { handler: b.handler, statements: b.statementCount, close: b.close };
  }
  if (kind === 'best-bare') {
    const b = createBestBare({ runtimeUrl: config.runtimeUrl, secret: config.secret, poolSize });
    return { handler: b.handler, statements: b.statementCount, close: b.close };
  }
  const db = createDatabase({ url: config.runtimeUrl, max: poolSize, applicationName: `tenantgate-bench-${kind}`, compiledReads: kind !== 'gateway-prisma-reads', onStatement: config.traced ? tracer.onStatement : undefined });
  // SECURITY: the figures mean something only if RLS is really on the path.
  await assertRuntimeRole(db.pool);
  const gateway = createGateway({
    db,
    verifyToken: createTokenVerifier({ secret: config.secret }),
    logging: false,
    graphiql: false,
    usage: kind !== 'gateway-no-usage',
    jit: kind !== 'gateway-interpreted',
  });
  return {
    handler: gateway,
    statements: () => db.statementCount(),
    async close() {
      // dispose() first: it writes the usage recorder's pending counts while the pool is open.
      await gateway.dispose();
      await db.close();
    },
  };
}

/** The inspector's profiler, on this process's own session. */
const profiler = {
  session: null as Session | null,
  post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) => this.session!.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  },
  async start(intervalUs = 1000): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.post('Profiler.start');
  },
  async stop(file: string): Promise<void> {
    const { profile } = await this.post<{ profile: unknown }>('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    this.session!.disconnect();
    this.session = null;
  },
};

/**
 * The tracer behind `trace-start`/`trace-stop`. A miss of the access cache is
 * counted by wrapping AccessCache.prototype.get: a diagnostic of the benchmark
 * only, meaningful at one connection, where requests do not overlap.
 */
const tracer = {
  on: false,
  misses: 0,
  trace: { requests: [], gcs: [], marks: [] } as ServerTrace,
  observer: null as PerformanceObserver | null,
  install(): void {
    const get = AccessCache.prototype.get;
    AccessCache.prototype.get = function (this: AccessCache, organizationId: string, userId: string) {
      const entry = get.call(this, organizationId, userId);
      if (!entry && tracer.on) tracer.misses += 1;
      return entry;
    };
  },
  start(): void {
    this.trace = { requests: [], gcs: [], marks: [] };
    this.on = true;
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.trace.gcs.push({ start: entry.startTime, duration: entry.duration, kind: (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind ?? 0 });
    });
    this.observer.observe({ entryTypes: ['gc'] });
  },
  stop(): ServerTrace {
    this.on = false;
    this.observer?.disconnect();
    return this.trace;
  },
  onStatement(sql: string): void {
    if (!tracer.on) return;
    const label = sql.includes('app.record_usage(') ? 'usage flush' : sql.startsWith('SELECT v.version') ? 'usage read' : sql.includes('app.request_access(') ? 'full check' : null;
    if (label) tracer.trace.marks.push({ at: performance.now(), label });
  },
  wrap(handler: Handler): Handler {
    return (req, res) => {
      if (!tracer.on) return handler(req, res);
      const start = performance.now();
      const missesBefore = tracer.misses;
      res.once('finish', () => tracer.trace.requests.push({ start, end: performance.now(), accessCacheMisses: tracer.misses - missesBefore }));
      return handler(req, res);
    };
  },
};

async function main(): Promise<void> {
  const kind = process.argv[2] as ProcessKind;
  if (!['gateway', 'gateway-no-usage', 'gateway-prisma-reads', 'gateway-interpreted', 'baseline', 'best-bare'].includes(kind)) throw new Error(`server-process: unknown kind ${kind}`);
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as ServerProcessConfig;
  if (config.traced) tracer.install();
  const started = await start(kind, config);
  const server = await serve(config.traced ? tracer.wrap(started.handler) : started.handler);
  const send = (message: ChildMessage) => process.send?.(message);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      send({ type: 'stats', id: message.id, completed: server.completed(), statements: started.statements(), inFlight: server.inFlight() });
    } else if (message.type === 'drain') {
      void server.drain(message.timeoutMs).then(() => send({ type: 'drained', id: message.id }));
    } else if (message.type === 'profile-start') {
      void profiler.start(message.intervalUs).then(() => send({ type: 'profile-started', id: message.id }));
    } else if (message.type === 'profile-stop') {
      void profiler.stop(message.file).then(() => send({ type: 'profile-written', id: message.id, file: message.file }));
    } else if (message.type === 'trace-start') {
      if (!config.traced) throw new Error('server-process: trace-start needs a process started with traced: true');
      tracer.start();
      send({ type: 'trace-started', id: message.id });
    } else if (message.type === 'trace-stop') {
      send({ type: 'trace', id: message.id, ...tracer.stop() });
    } else if (message.type === 'close') {
      void server
        .close()
        .then(() => started.close())
        .finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: server.url, pid: process.pid, version: process.version });
}

main().catch((error: Error) => {
  console.error(`server-process ${process.argv[2]}: ${error.stack ?? error.message}`);
  process.exit(1);
});
