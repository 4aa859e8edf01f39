import { failures, LoadGenerator } from './load';
import { startServerProcess } from './processes';
import { fixed, heading, integer } from './report';
import type { TokenEntry } from './scenarios';

/**
 * `npm run bench -- --soak <seconds>` (issue 18, item 4): the gateway (usage
 * tracking on) in a process of its own under 50 connections of the projects
 * page for that long, its resident memory (/proc/<pid>/status VmRSS) printed
 * at the start, after every minute and at the end, and the verdict: the end
 * within 20% of the first minute. The load runs in chunks of at most a minute,
 * back to back (a gap of a few milliseconds between chunks).
 */

export interface SoakOptions {
  runtimeUrl: string;
  secret: string;
  entries: TokenEntry[];
  seconds: number;
  connections?: number;
  log: (line: string) => void;
}

export interface SoakResult {
  /** MB at the start (listening, before any request), after each minute, at the end. */
  startMb: number;
  minutesMb: number[];
  endMb: number;
  peakMb: number;
  withinTarget: boolean;
  requests: number;
  bad: number;
}

const MB = 2 ** 20;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log } = options;
  const connections = options.connections ?? 50;
  log(heading(`Memory soak: gateway, projects(first: 20), ${connections} connections, ${options.seconds} s`));
  const server = await startServerProcess('gateway', { runtimeUrl: options.runtimeUrl, secret: options.secret, log });
  const generator = new LoadGenerator(options.entries);
  let peak = 0;
  const sample = () => {
    const rss = server.rss() ?? Number.NaN;
    peak = Math.max(peak, rss);
    return rss / MB;
  };
  const sampler = setInterval(sample, 1000);
  try {
    const startMb = sample();
    log(`  pid ${server.pid}: RSS at start ${fixed(startMb, 1)} MB`);
    const minutesMb: number[] = [];
    let requests = 0;
    let bad = 0;
    let elapsed = 0;
    while (elapsed < options.seconds) {
      const chunk = Math.min(60, options.seconds - elapsed);
      const result = await generator.run({ url: server.url, scenario: 'projects', dialect: 'tenantgate', connections, duration: chunk });
      elapsed += chunk;
      requests += result.responses;
      bad += failures(result);
      const rss = sample();
      if (chunk === 60) minutesMb.push(rss);
      log(
        `  ${fixed(elapsed / 60, 1).padStart(5)} min: RSS ${fixed(rss, 1)} MB (peak so far ${fixed(peak / MB, 1)} MB), ` +
          `${integer(result.requestsPerSecond)} req/s, p99 ${fixed(result.latencyMs.p99, 1)} ms${failures(result) ? `, ${failures(result)} BAD RESPONSES: ${result.samples[0]}` : ''}`,
      );
    }
    await server.drain();
    const endMb = sample();
    const first = minutesMb[0] ?? Number.NaN;
    const withinTarget = Number.isFinite(first) && Math.abs(endMb - first) <= 0.2 * first;
    log(`  RSS: start ${fixed(startMb, 1)} MB, per minute ${minutesMb.map((m) => fixed(m, 1)).join(', ') || '-'} MB, end ${fixed(endMb, 1)} MB, peak ${fixed(peak / MB, 1)} MB`);
    log(
      `  [${Number.isFinite(first) ? (withinTarget ? 'PASS' : 'FAIL') : 'NOT MEASURED'}] end within 20% of the first minute: ` +
        `${fixed(endMb, 1)} MB vs ${fixed(first, 1)} MB (${Number.isFinite(first) ? `${fixed(((endMb - first) / first) * 100, 1)}%` : 'the soak is shorter than a minute'}); ` +
        `${integer(requests)} requests, ${bad} bad`,
    );
    return { startMb, minutesMb, endMb, peakMb: peak / MB, withinTarget, requests, bad };
  } finally {
    clearInterval(sampler);
    await generator.close();
    await server.close();
  }
}
