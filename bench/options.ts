import { parseArgs } from 'node:util';

/**
 * `gateway` is the gateway as deployed (usage tracking on, its default);
 * `gateway-no-usage` the same with `usage: false`, to show what tracking costs;
 * `baseline` the old bare yardstick (bench/baseline.ts); `best-bare` the best a
 * hand-written yoga + pg server does (bench/best-bare.ts); `postgraphile` the
 * peer (bench/peers/, Node 22, installed on demand). Each runs in a process of
 * its own.
 */
export type ServerName = 'baseline' | 'best-bare' | 'postgraphile' | 'gateway' | 'gateway-no-usage' | 'gateway-prisma-reads' | 'gateway-interpreted';

export const SERVER_NAMES: ServerName[] = ['gateway', 'postgraphile', 'best-bare', 'baseline', 'gateway-no-usage', 'gateway-prisma-reads', 'gateway-interpreted'];

/** What `npm run bench -- …` was asked to do. */
export interface BenchOptions {
  /** Projects in the dataset. @default 1000000 */
  projects: number;
  /** Organizations the projects are spread over. @default 1000 */
  orgs: number;
  /** Members of each organization (project owners are drawn from them). @default 5 */
  usersPerOrg: number;
  /** Seconds of each measured load run. @default 10 */
  duration: number;
  /** Seconds of warm-up before each measured load run (not counted). @default 2 */
  warmup: number;
  /**
   * Seconds each server serves each of its queries, at the most connections,
   * once before the first round (not counted): a process's first seconds are
   * V8's tiering and its heap's growth, not its steady state. @default 10
   */
  warmIn: number;
  /**
   * Times the whole HTTP load is repeated; the figures reported are the medians
   * over the rounds, since one run on a shared machine can be far off. @default 1
   */
  rounds: number;
  /** Connection counts to load each scenario with. @default [1, 50] */
  connections: number[];
  /** Organizations that get a token; each request picks one of them at random. @default 100 */
  sampleOrgs: number;
  /** Units of work per mode and concurrency in the transaction micro-benchmark. @default 3000 */
  iterations: number;
  /** Time limit of each transaction micro-benchmark measurement, in seconds. @default 60 */
  txMaxSeconds: number;
  /** Never seed: measure whatever the bench database holds. */
  skipSeed: boolean;
  /** Drop and re-seed even when the bench database already holds a dataset of this size. */
  reseed: boolean;
  /** Write the figures to this file as JSON. */
  json?: string;
  /** Abort the whole run after this many minutes, whatever it is doing. @default 30 */
  timeoutMinutes: number;
  /** Before each measurement, wait up to this many seconds for other programs to go quiet. @default 0 */
  waitQuiet: number;
  /**
   * Which servers to load, in this order: baseline, gateway (usage tracking on,
   * as deployed), gateway-no-usage (to see what tracking costs). One alone e.g.
   * to profile it. @default ['baseline', 'gateway']
   */
  servers: ServerName[];
  /** Skip the HTTP load runs (gateway and baseline). */
  skipHttp: boolean;
  /** Skip the transaction-mode micro-benchmark. */
  skipTransactions: boolean;
  /** Seconds of the memory soak (50 connections against the gateway alone); when set, nothing else runs. */
  soak?: number;
  /** The "where the time goes" mode: a CPU profile of the gateway under load and PostgreSQL's time per statement. */
  profile: boolean;
  /** The queries --profile loads, in this order. @default ['projects', 'project'] */
  profileQueries: ('projects' | 'project' | 'tasks')[];
  /** The server --profile loads. @default 'gateway' */
  profileServer: ServerName;
}

const USAGE = `usage: npm run bench -- [options]

  --projects <n>          projects in the dataset (default 1000000)
  --orgs <n>              organizations (default 1000)
  --users-per-org <n>     members per organization (default 5)
  --duration <seconds>    length of each measured load run (default 10)
  --warmup <seconds>      warm-up before each load run (default 2)
  --warm-in <seconds>     before the first round, each server serves each of its
                          queries this long at the most connections (default 10; 0: none)
  --rounds <n>            repeat the whole HTTP load n times and report, per server,
                          the median of the rounds and their req/s range (default 1)
  --connections <list>    comma-separated connection counts (default 1,50)
  --sample-orgs <n>       organizations that get tokens (default 100)
  --iterations <n>        units per transaction micro-benchmark run (default 3000)
  --tx-max-seconds <n>    time limit of each of those runs (default 60)
  --skip-seed             use the bench database as it is, never seed
  --reseed                drop and seed again even if the data is already there
  --json <file>           also write the figures as JSON
  --timeout-minutes <n>   hard limit for the whole run (default 30)
  --wait-quiet <seconds>  before each measurement, wait up to this long for other
                          programs to use < 10% of a core (shared machines; default 0)
  --servers <list>        which servers to load, in this order, of gateway,
                          postgraphile, best-bare, baseline, gateway-no-usage
                          (the gateway with usage tracking off) and
                          gateway-prisma-reads (compiled reads off:
                          DATABASE_COMPILED_READS=false), gateway-interpreted
                          (GRAPHQL_JIT=false); default all but postgraphile and
                          those two (--peers adds the first). Each runs in its
                          own process.
  --peers                 also load PostGraphile 5 (installed on demand with its
                          Node 22 into bench/peers/node_modules, ~40 s the first time)
  --profile               where the time goes: the gateway under 50 connections
                          with --cpu-prof (Node CPU per request by package) and each
                          statement's PostgreSQL time per request; nothing else runs
  --profile-queries <list> the queries --profile loads, of projects, project and
                          tasks (default projects,project)
  --profile-server <name> the server --profile loads (default gateway; e.g. best-bare,
                          to compare the same categories)
  --soak <seconds>        memory soak: 50 connections against the gateway for that
                          long, its RSS every minute; nothing else runs
  --skip-http             skip the HTTP load runs
  --skip-transactions     skip the transaction-mode micro-benchmark
  --help                  this text

Database: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres;
BENCH_DATABASE_NAME (default tenantgate_bench) and BENCH_RUNTIME_ROLE (default tenantgate_bench_app) name the database and role
(an admin role: superuser or BYPASSRLS). The benchmark creates and uses its own database, tenantgate_bench.`;

function positiveNumber(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}\n\n${USAGE}`);
  }
  return value;
}

function parseServers(raw: string): ServerName[] {
  const servers = raw.split(',').map((s) => s.trim());
  for (const s of servers) {
    if (!(SERVER_NAMES as string[]).includes(s)) throw new Error(`--servers takes ${SERVER_NAMES.join(', ')}; got ${JSON.stringify(s)}\n\n${USAGE}`);
  }
  return servers as ServerName[];
}

function parseProfileQueries(raw: string): BenchOptions['profileQueries'] {
  const queries = raw.split(',').map((s) => s.trim());
  for (const q of queries) {
    if (!['projects', 'project', 'tasks'].includes(q)) throw new Error(`--profile-queries takes projects, project and tasks; got ${JSON.stringify(q)}\n\n${USAGE}`);
  }
  return queries as BenchOptions['profileQueries'];
}

/** Parses argv; returns null when --help was asked for (the usage is printed). */
export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      projects: { type: 'string' },
      orgs: { type: 'string' },
      'users-per-org': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'warm-in': { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'sample-orgs': { type: 'string' },
      iterations: { type: 'string' },
      'tx-max-seconds': { type: 'string' },
      'skip-seed': { type: 'boolean', default: false },
      reseed: { type: 'boolean', default: false },
      json: { type: 'string' },
      'timeout-minutes': { type: 'string' },
      'wait-quiet': { type: 'string' },
      servers: { type: 'string' },
      'skip-http': { type: 'boolean', default: false },
      'skip-transactions': { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-queries': { type: 'string' },
      'profile-server': { type: 'string' },
      soak: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return null;
  }

  const options: BenchOptions = {
    projects: positiveNumber('projects', values.projects, 1_000_000),
    orgs: positiveNumber('orgs', values.orgs, 1_000),
    usersPerOrg: positiveNumber('users-per-org', values['users-per-org'], 5),
    duration: positiveNumber('duration', values.duration, 10, false),
    warmup: values.warmup === '0' ? 0 : positiveNumber('warmup', values.warmup, 2, false),
    warmIn: values['warm-in'] === '0' ? 0 : positiveNumber('warm-in', values['warm-in'], 10, false),
    rounds: positiveNumber('rounds', values.rounds, 1),
    connections: (values.connections ?? '1,50').split(',').map((c) => positiveNumber('connections', c.trim(), 1)),
    sampleOrgs: positiveNumber('sample-orgs', values['sample-orgs'], 100),
    iterations: positiveNumber('iterations', values.iterations, 3000),
    txMaxSeconds: positiveNumber('tx-max-seconds', values['tx-max-seconds'], 60, false),
    skipSeed: values['skip-seed'],
    reseed: values.reseed,
    json: values.json,
    timeoutMinutes: positiveNumber('timeout-minutes', values['timeout-minutes'], 30, false),
    waitQuiet: values['wait-quiet'] === undefined || values['wait-quiet'] === '0' ? 0 : positiveNumber('wait-quiet', values['wait-quiet'], 0, false),
    servers: parseServers(values.servers ?? (values.peers ? 'gateway,postgraphile,best-bare,baseline,gateway-no-usage' : 'gateway,best-bare,baseline,gateway-no-usage')),
    skipHttp: values['skip-http'],
    skipTransactions: values['skip-transactions'],
    soak: values.soak === undefined ? undefined : positiveNumber('soak', values.soak, 600, false),
    profile: values.profile,
    profileQueries: parseProfileQueries(values['profile-queries'] ?? 'projects,project'),
    profileServer: parseServers(values['profile-server'] ?? 'gateway')[0],
  };
  if (values.peers && values.servers && !options.servers.includes('postgraphile')) options.servers.push('postgraphile');
  // The soak's own length bounds it, not the default half hour.
  if (options.soak !== undefined && values['timeout-minutes'] === undefined) options.timeoutMinutes = Math.max(30, options.soak / 60 + 15);
  if (options.skipSeed && options.reseed) throw new Error('--skip-seed and --reseed contradict each other');
  if (options.orgs > options.projects) throw new Error('--orgs must not exceed --projects: every organization gets projects');
  // The seed keeps each organization's members in one array column; keep it small.
  if (options.usersPerOrg > 1000) throw new Error('--users-per-org is at most 1000');
  return options;
}
