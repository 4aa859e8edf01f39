/**
 * npx tsx bench/promoted.ts [--request page|project|tasks] [--seconds 8] [--runs 2] [--sites [--all]]
 *
 * What a request leaves to V8's old generation: the gateway serves one request
 * at a time over HTTP on 127.0.0.1 (in a child process with the server's V8
 * flags and --trace-gc-nvp), on the dataset of `npm run bench` (run that once
 * first), and this prints, over the measured window, the bytes promoted per
 * request by the young-generation collections, how many there were, their
 * median and p90 pause, and the full collections. Promoted bytes are garbage
 * that only a full collection (a pause, and a concurrent marking that takes
 * the second core from PostgreSQL) reclaims.
 *
 * With --sites: where the objects that outlived a young collection were
 * allocated (V8's sampling heap profiler, keeping what a full collection
 * reclaimed), by the last four frames, per request. With --all as well: where
 * everything a request allocates comes from (what sets how often the young
 * generation is collected).
 */
import './env';
import { fork } from 'node:child_process';
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { createGateway } from '../src/yoga';
import { benchUrls, sampleOrganizations } from './database';
import { SERVER_V8_FLAGS } from './processes';
import { projectGlobalId } from './scenarios';

const { values: args } = parseArgs({
  options: {
    request: { type: 'string', default: 'page' },
    seconds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '2' },
    sites: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
});

const QUERIES: Record<string, (ids: string[]) => { query: string; variables?: Record<string, unknown> }> = {
  page: () => ({ query: 'query { projects(first: 20) { edges { node { id name status owner { email } } } } }' }),
  project: (ids) => ({ query: 'query($id: ID!) { project(id: $id) { id name status owner { email } } }', variables: { id: projectGlobalId(ids[Math.floor(Math.random() * ids.length)]) } }),
  tasks: () => ({ query: 'query { tasks(first: 20) { edges { node { id title status assignee { email } } } } }' }),
};
if (!QUERIES[args.request!]) throw new Error(`--request takes ${Object.keys(QUERIES).join(', ')}`);
const seconds = Number(args.seconds);

interface Frame {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Frame[];
}

async function child(): Promise<void> {
  const urls = benchUrls();
  const orgs = await sampleOrganizations(urls.adminUrl, 100);
  if (orgs.length === 0) throw new Error('The bench database holds no organizations: run `npm run bench` once first.');
  const secret = 'promoted-benchmark-secret-0123456789';
  const entries = await Promise.all(orgs.map(async (o) => ({ ids: o.projectIds, token: await signToken({ secret, userId: o.userId, organizationId: o.organizationId, expiresIn: '1h' }) })));
  const db = createDatabase({ url: urls.runtimeUrl, max: 10, applicationName: 'tenantgate-bench-promoted' });
  const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret }), logging: false, graphiql: false });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const entry = entries[Math.floor(Math.random() * entries.length)];
      const body = JSON.stringify(QUERIES[args.request!](entry.ids));
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${entry.token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200 || text.includes('"errors"')) reject(new Error(`${res.statusCode} ${text.slice(0, 300)}`));
            else resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const run = async (ms: number) => {
    const until = Date.now() + ms;
    let served = 0;
    while (Date.now() < until) {
      await one();
      served += 1;
    }
    return served;
  };
  await run(3_000);
  const session = new Session();
  if (args.sites) {
    session.connect();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: args.all } as never);
  }
  console.log('PROMOTED-START');
  const served = await run(seconds * 1000);
  console.log(`PROMOTED-END ${served}`);
  if (args.sites) {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Frame } };
    const sites = new Map<string, number>();
    let total = 0;
    const walk = (node: Frame, stack: string[]) => {
      const f = node.callFrame;
      const here = [...stack, `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '').replace(/.*\/(src|bench)\//, '$1/')}:${f.lineNumber + 1}`];
      if (node.selfSize) {
        total += node.selfSize;
        const key = here.slice(-4).reverse().join(' < ');
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      }
      for (const c of node.children) walk(c, here);
    };
    walk(profile.head, []);
    console.log(`  sampled ${args.all ? 'allocations' : 'survivors'}: ${Math.round(total / served)} B per request; by allocation site:`);
    for (const [site, size] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(Math.round(size / served)).padStart(6)} B  ${site}`);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  agent.destroy();
  await db.close();
}

function summarize(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.includes('PROMOTED-START'));
  const end = lines.findIndex((l) => l.includes('PROMOTED-END'));
  if (start < 0 || end < 0) throw new Error(`the child did not finish:\n${output.slice(-2000)}`);
  const served = Number(lines[end].split(' ').pop());
  let promoted = 0;
  let majors = 0;
  const pauses: number[] = [];
  for (const line of lines.slice(start + 1, end)) {
    const fields = Object.fromEntries(line.trim().split(/\s+/).map((kv) => kv.split('=')));
    if (fields.gc === 's') {
      promoted += Number(fields.promoted);
      pauses.push(Number(fields.pause));
    } else if (fields.gc === 'mc' || fields.gc === 'mmc') majors += 1;
  }
  pauses.sort((a, b) => a - b);
  const at = (q: number) => (pauses.length ? pauses[Math.min(pauses.length - 1, Math.floor(pauses.length * q))] : 0);
  return `${served} requests: promoted ${Math.round(promoted / served)} B per request; ${pauses.length} young collections, pause median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms; ${majors} full`;
}

async function parent(): Promise<void> {
  console.log(`promoted by young-generation collections: ${args.request}, one request at a time over HTTP, ${seconds} s after a 3 s warm-up; V8 flags ${SERVER_V8_FLAGS.join(' ')}`);
  for (let run = 1; run <= Number(args.runs); run += 1) {
    const argv = ['--child', '--request', args.request!, '--seconds', String(seconds), ...(args.sites ? ['--sites'] : []), ...(args.all ? ['--all'] : [])];
    const proc = fork(__filename, argv, { execArgv: ['--import', 'tsx', ...SERVER_V8_FLAGS, '--trace-gc-nvp'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let output = '';
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    if (code !== 0) throw new Error(`run ${run}: the child exited with ${code}\n${output.slice(-2000)}`);
    console.log(`run ${run}: ${summarize(output)}`);
    if (args.sites) for (const line of output.split('\n').filter((l) => l.startsWith('  '))) console.log(line);
  }
}

(args.child ? child() : parent()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
