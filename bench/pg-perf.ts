/**
 * npx tsx bench/pg-perf.ts [servers] [seconds] [scenario] [connections]
 *   e.g. npx tsx bench/pg-perf.ts gateway,best-bare 10 projects 50
 *
 * Where PostgreSQL's CPU goes for each server's requests: each server (its own
 * process, as `npm run bench` starts it) is loaded with 50 connections while
 * `perf record` samples the whole machine; the report prints the machine's
 * samples by command (`swapper` is idle time), PostgreSQL's busiest functions
 * with their share of its samples, and the CPU per request (from /proc, as the
 * benchmark measures it). Needs
 * `perf` (Debian: linux-perf), root, and the bench database (`npm run bench` once).
 */
import './env';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CpuMonitor } from './cpu';
import { benchUrls, sampleOrganizations, tokenEntries } from './database';
import { LoadGenerator } from './load';
import type { ServerName } from './options';
import { startServerProcess } from './processes';
import { dialectOf, type ScenarioName } from './scenarios';

const [serversArg = 'gateway,best-bare', secondsArg = '10', scenarioArg = 'projects', connectionsArg = '50'] = process.argv.slice(2);
const servers = serversArg.split(',') as ServerName[];
const seconds = Number(secondsArg);
const scenario = scenarioArg as ScenarioName;

async function main(): Promise<void> {
  const urls = benchUrls();
  const admin = new pg.Client({ connectionString: urls.adminUrl, application_name: 'tenantgate-bench-monitor' });
  await admin.connect();
  const monitor = new CpuMonitor(admin, 0, 100, () => undefined);
  const secret = randomBytes(32).toString('hex');
  const sample = await sampleOrganizations(urls.adminUrl, 100);
  const entries = await tokenEntries(sample, secret);
  const generator = new LoadGenerator(entries);
  for (const name of servers) {
    const server = await startServerProcess(name, { runtimeUrl: urls.runtimeUrl, secret, log: () => undefined });
    const job = { url: server.url, scenario, dialect: dialectOf(name), connections: Number(connectionsArg) };
    await generator.run({ ...job, duration: 5 });
    await server.drain(30_000);
    const file = `/tmp/pg-perf-${name}.data`;
    const perf = spawn('perf', ['record', '-F', '1999', '-a', '-g', '-o', file, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
    const endCpu = await monitor.begin(server.pid);
    const before = await server.stats();
    const result = await generator.run({ ...job, duration: seconds });
    await server.drain();
    const cpu = await endCpu();
    const after = await server.stats();
    await new Promise((resolve) => perf.on('exit', resolve));
    const requests = after.completed - before.completed;
    console.log(`\n${name}: ${Math.round(result.requestsPerSecond)} req/s; CPU per request: server ${Math.round(((cpu?.serverSeconds ?? NaN) * 1e6) / requests)} µs, PostgreSQL ${Math.round(((cpu?.postgresSeconds ?? NaN) * 1e6) / requests)} µs`);
    const report = (args: string[], lines: number) =>
      execFileSync('perf', ['report', '-i', file, '--no-children', '--stdio', '-g', 'none', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
        .split('\n')
        .filter((line) => line.trim() && !line.startsWith('#'))
        .slice(0, lines)
        .join('\n');
    console.log(`  the machine's samples by command:\n${report(['--sort', 'comm'], 6)}`);
    console.log(`  PostgreSQL's functions (share of its samples):\n${report(['--comm', 'postgres', '--sort', 'sym', '--percentage', 'relative'], 30)}`);
    await server.close();
  }
  await admin.end();
  process.exit(0);
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
