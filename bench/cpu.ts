import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/**
 * Where the machine's CPU went during a measurement, from /proc (Linux): this
 * process (servers and load generator), the PostgreSQL processes serving it, and
 * everything else. On a small shared machine a test suite started by someone else halves
 * the figures; a run says so instead of reporting them as the gateway's.
 * Elsewhere (no /proc) the figures are simply absent.
 */

export interface CpuSnapshot {
  at: number;
  /** Busy clock ticks of the whole machine (all cores), from /proc/stat. */
  busy: number;
  /** Clock ticks per process id. */
  processes: Map<number, number>;
}

export interface CpuShare {
  /** Percent of one core, averaged over the interval (200 = two cores busy). */
  self: number;
  /** The server under test, when it runs in a process of its own (0 otherwise). */
  server: number;
  postgres: number;
  other: number;
  /** CPU seconds of the server process and of PostgreSQL over the interval: divided by requests, CPU per request. */
  serverSeconds: number;
  postgresSeconds: number;
}

// USER_HZ: 100 on every Linux that Node supports.
const TICKS_PER_SECOND = 100;

export function cpuSnapshot(): CpuSnapshot | null {
  let pids: string[];
  let busy: number;
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    // cpu  user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    busy = ticks.reduce((sum, t) => sum + t, 0) - ticks[3] - ticks[4];
  } catch {
    return null;
  }
  const processes = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name is in parentheses and may itself contain spaces or parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the line: indexes 11 and 12 after the name.
      processes.set(Number(pid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return { at: performance.now(), busy, processes };
}

/**
 * `postgresPids`: the server processes working for this run (the bench
 * database's backends and the server's own background processes): another
 * project's tests on the same server count as "other".
 */
export function cpuShare(
  before: CpuSnapshot | null,
  after: CpuSnapshot | null,
  postgresPids: ReadonlySet<number>,
  serverPid?: number,
): CpuShare | null {
  if (!before || !after) return null;
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return null;
  const share: CpuShare = { self: 0, server: 0, postgres: 0, other: 0, serverSeconds: 0, postgresSeconds: 0 };
  for (const [pid, now] of after.processes) {
    const ticks = now - (before.processes.get(pid) ?? 0);
    if (ticks <= 0) continue;
    if (pid === process.pid) share.self += ticks;
    else if (pid === serverPid) share.server += ticks;
    else if (postgresPids.has(pid)) share.postgres += ticks;
  }
  // "Other" from the machine's total rather than per process: a short-lived
  // process (a test worker) that came and went within the interval counts too.
  share.other = Math.max(0, after.busy - before.busy - share.self - share.server - share.postgres);
  share.serverSeconds = share.server / TICKS_PER_SECOND;
  share.postgresSeconds = share.postgres / TICKS_PER_SECOND;
  for (const key of ['self', 'server', 'postgres', 'other'] as const) share[key] = (share[key] / TICKS_PER_SECOND / seconds) * 100;
  return share;
}

export function describeShare(share: CpuShare | null): string {
  if (!share) return 'cpu n/a';
  return `cpu: ${share.server > 0 ? `server ${share.server.toFixed(0)}%, harness` : 'this process'} ${share.self.toFixed(0)}%, postgres ${share.postgres.toFixed(0)}%, other ${share.other.toFixed(0)}%`;
}

/** The PostgreSQL server processes that work for the bench database (meaningful when the server is local). */
export async function postgresPids(client: pg.Client): Promise<Set<number>> {
  const { rows } = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type <> 'client backend'`,
  );
  return new Set(rows.map((r) => r.pid));
}

/** Measures the CPU shares of one interval: `const end = await monitor.begin(); …; const share = await end();` */
export class CpuMonitor {
  /**
   * @param quietWaitSeconds before each measurement, wait up to this long for
   *   other programs to use less than `quietPercent` of a core (0: do not wait).
   */
  constructor(
    private readonly admin: pg.Client,
    private readonly quietWaitSeconds = 0,
    private readonly quietPercent = 10,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Waits (bounded) until the rest of the machine is quiet; returns the seconds waited. */
  async waitForQuiet(): Promise<number> {
    if (this.quietWaitSeconds <= 0) return 0;
    const started = performance.now();
    const pids = await postgresPids(this.admin);
    for (;;) {
      const before = cpuSnapshot();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const share = cpuShare(before, cpuSnapshot(), pids);
      const waited = (performance.now() - started) / 1000;
      if (!share || share.other < this.quietPercent) return waited;
      if (waited >= this.quietWaitSeconds) {
        this.log(`  (other programs still use ${share.other.toFixed(0)}% of a core after ${waited.toFixed(0)} s of waiting; measuring anyway)`);
        return waited;
      }
    }
  }

  /** `serverPid`: the server under test, when it runs in a process of its own. */
  async begin(serverPid?: number): Promise<() => Promise<CpuShare | null>> {
    const pidsBefore = await postgresPids(this.admin);
    const before = cpuSnapshot();
    return async () => {
      const after = cpuSnapshot();
      // Both lists: a pooled connection may have been replaced during the interval.
      const pids = await postgresPids(this.admin);
      for (const pid of pidsBefore) pids.add(pid);
      return cpuShare(before, after, pids, serverPid);
    };
  }
}
