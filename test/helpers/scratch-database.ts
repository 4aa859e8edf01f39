import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ensureRuntimeRole, migrate } from '../../src/db/migrate';
import { withSearchPath } from '../../src/db/schemas';
import { withDatabase } from '../setup/database';

/**
 * A database of its own, migrated, for a test that changes the schema (a table
 * made by hand): the suite's shared database stays as the migrations left it,
 * so other test files running at the same time never see such a table.
 */
export interface ScratchDatabase {
  adminUrl: string;
  runtimeUrl: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(options: { migrationsDir?: string; migrateIt?: boolean } = {}): Promise<ScratchDatabase> {
  const serverUrl = process.env.TENANTGATE_TEST_SERVER_URL;
  if (!serverUrl) throw new Error('The test server is not set up: run the suite with `npm test`.');
  const database = `tenantgate_scratch_${randomUUID().slice(0, 8)}`;
  const server = new pg.Client({ connectionString: serverUrl });
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  await server.end();
  // With tenantgate's search path, like the suite's own admin URL (test/setup/global-setup.ts).
  const adminUrl = withSearchPath(withDatabase(serverUrl, database));
  // The run's own runtime role (test/setup/global-setup.ts), dropped with the run.
  const runRuntime = new URL(process.env.TENANTGATE_TEST_RUNTIME_URL ?? '');
  const runtimeUrl = withDatabase(serverUrl, database, { user: decodeURIComponent(runRuntime.username), password: decodeURIComponent(runRuntime.password) });
  if (options.migrateIt !== false) {
    await migrate(adminUrl, { dir: options.migrationsDir });
    await ensureRuntimeRole(adminUrl, runtimeUrl);
  }
  return {
    adminUrl,
    runtimeUrl,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
    },
  };
}
