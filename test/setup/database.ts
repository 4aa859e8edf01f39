import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';

/**
 * Which PostgreSQL the suite runs against: TEST_DATABASE_URL when set, else the
 * server on 127.0.0.1:5432 when one answers, else an embedded PostgreSQL of its
 * own in a temporary directory. The suite creates one database per run on it.
 */
export interface TestServer {
  /** A superuser URL on the server's maintenance database. */
  url: string;
  label: string;
  embedded?: EmbeddedDatabase;
  /** The PostgreSQL on 127.0.0.1:5432, whose runs are this machine's. */
  local?: boolean;
}

const LOCAL_SERVER = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function chooseTestServer(env = process.env): Promise<TestServer> {
  if (env.TEST_DATABASE_URL) {
    if (!(await answers(env.TEST_DATABASE_URL))) throw new Error('TEST_DATABASE_URL is set but does not answer.');
    return { url: env.TEST_DATABASE_URL, label: 'TEST_DATABASE_URL' };
  }
  if (await answers(LOCAL_SERVER)) return { url: LOCAL_SERVER, label: 'the PostgreSQL on 127.0.0.1:5432', local: true };
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-test-'));
  const port = await freePort();
  const embedded = await startEmbeddedPostgres({ dataDir, port });
  const url = new URL(embedded.adminUrl);
  url.pathname = '/postgres';
  return { url: url.toString(), label: `an embedded PostgreSQL on 127.0.0.1:${port}`, embedded };
}

export function withDatabase(url: string, database: string, credentials?: { user: string; password: string }): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (credentials) {
    parsed.username = credentials.user;
    parsed.password = credentials.password;
  }
  return parsed.toString();
}
