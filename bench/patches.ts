/**
 * npm run bench:patches -- [--seconds 5] [--rounds 3] [--concurrency 10]
 *
 * What each patch of a library's internals (src/patches.ts) buys: the gateway
 * is measured in process (bench/in-process.ts, on the dataset of `npm run
 * bench`) with every patch, and with each one left out in turn
 * (TENANTGATE_DISABLE_PATCHES), each in a process of its own, the sets
 * alternating within each round. Prints CPU per request and req/s per set and
 * request, the medians over the rounds, and each patch's gain against the set
 * with every patch.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PATCHES } from '../src/patches';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '10' } },
});
const sets = [['all patches', ''], ...Object.keys(PATCHES).map((key) => [`without ${key}`, key])] as const;
const LINE = /gateway\s+(\S+(?: \{ role \})?)\s+\d+ at a time: cpu ([\d.]+) ms\/request, event loop [\d.]+, (\d+) req\/s/;
const results = new Map<string, { cpu: number[]; rps: number[] }>();

for (let round = 1; round <= Number(args.rounds); round++) {
  for (const [name, disabled] of sets) {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/in-process.ts', '--gateway-only', '--rounds', '1', '--seconds', args.seconds!, '--concurrency', args.concurrency!],
      { env: { ...process.env, TENANTGATE_DISABLE_PATCHES: disabled }, encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`${name}: ${run.stderr || run.stdout}`);
    for (const line of run.stdout.split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue;
      const key = `${name}|${m[1]}`;
      const entry = results.get(key) ?? { cpu: [], rps: [] };
      entry.cpu.push(Number(m[2]) * 1000);
      entry.rps.push(Number(m[3]));
      results.set(key, entry);
      console.log(`round ${round}  ${name.padEnd(24)} ${m[1].padEnd(16)} ${Math.round(Number(m[2]) * 1000)} µs/request  ${m[3]} req/s`);
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`\nmedians over ${args.rounds} round(s), ${args.concurrency} requests at a time, in process:`);
for (const request of ['page', 'project', 'viewer { role }']) {
  const base = results.get(`all patches|${request}`);
  if (!base) continue;
  for (const [name] of sets) {
    const r = results.get(`${name}|${request}`);
    if (!r) continue;
    const cpu = median(r.cpu);
    const rps = median(r.rps);
    const gain = name === 'all patches' ? '' : `  (the patch saves ${Math.round(cpu - median(base.cpu))} µs/request, ${(((median(base.rps) / rps) - 1) * 100).toFixed(1)}% throughput)`;
    console.log(`  ${request.padEnd(16)} ${name.padEnd(24)} ${Math.round(cpu)} µs/request  ${rps} req/s${gain}`);
  }
}
