import { parseArgs } from 'node:util';

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
  /** Connection counts to load each scenario with. @default [1, 50] */
  connections: number[];
  /** Organizations that get a token; each request picks one of them at random. @default 100 */
  sampleOrgs: number;
  /** Units of work per mode and concurrency in the transaction micro-benchmark. @default 3000 */
  iterations: number;
  /** Never seed: measure whatever the bench database holds. */
  skipSeed: boolean;
  /** Drop and re-seed even when the bench database already holds a dataset of this size. */
  reseed: boolean;
  /** Write the figures to this file as JSON. */
  json?: string;
  /** Abort the whole run after this many minutes, whatever it is doing. @default 30 */
  timeoutMinutes: number;
  /** Skip the HTTP load runs (gateway and baseline). */
  skipHttp: boolean;
  /** Skip the transaction-mode micro-benchmark. */
  skipTransactions: boolean;
}

const USAGE = `usage: npm run bench -- [options]

  --projects <n>          projects in the dataset (default 1000000)
  --orgs <n>              organizations (default 1000)
  --users-per-org <n>     members per organization (default 5)
  --duration <seconds>    length of each measured load run (default 10)
  --warmup <seconds>      warm-up before each load run (default 2)
  --connections <list>    comma-separated connection counts (default 1,50)
  --sample-orgs <n>       organizations that get tokens (default 100)
  --iterations <n>        units per transaction micro-benchmark run (default 3000)
  --skip-seed             use the bench database as it is, never seed
  --reseed                drop and seed again even if the data is already there
  --json <file>           also write the figures as JSON
  --timeout-minutes <n>   hard limit for the whole run (default 30)
  --skip-http             skip the HTTP load runs
  --skip-transactions     skip the transaction-mode micro-benchmark
  --help                  this text

Database: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres
(an admin role: superuser or BYPASSRLS). The benchmark creates and uses its own database, tenantgate_bench.`;

function positiveNumber(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}\n\n${USAGE}`);
  }
  return value;
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
      connections: { type: 'string' },
      'sample-orgs': { type: 'string' },
      iterations: { type: 'string' },
      'skip-seed': { type: 'boolean', default: false },
      reseed: { type: 'boolean', default: false },
      json: { type: 'string' },
      'timeout-minutes': { type: 'string' },
      'skip-http': { type: 'boolean', default: false },
      'skip-transactions': { type: 'boolean', default: false },
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
    connections: (values.connections ?? '1,50').split(',').map((c) => positiveNumber('connections', c.trim(), 1)),
    sampleOrgs: positiveNumber('sample-orgs', values['sample-orgs'], 100),
    iterations: positiveNumber('iterations', values.iterations, 3000),
    skipSeed: values['skip-seed'],
    reseed: values.reseed,
    json: values.json,
    timeoutMinutes: positiveNumber('timeout-minutes', values['timeout-minutes'], 30, false),
    skipHttp: values['skip-http'],
    skipTransactions: values['skip-transactions'],
  };
  if (options.skipSeed && options.reseed) throw new Error('--skip-seed and --reseed contradict each other');
  if (options.orgs > options.projects) throw new Error('--orgs must not exceed --projects: every organization gets projects');
  // The seed keeps each organization's members in one array column; keep it small.
  if (options.usersPerOrg > 1000) throw new Error('--users-per-org is at most 1000');
  return options;
}
