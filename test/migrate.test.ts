import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../src/db/migrate';
import { withDatabase } from './setup/database';

/** The migration runner keeps Prisma's format, so `prisma migrate deploy` can take over a database. */

const serverUrl = () => process.env.TENANTGATE_TEST_SERVER_URL!;
let admin: pg.Client;
let database: string;
let url: string;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
});
beforeEach(async () => {
  database = `tenantgate_migrate_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await admin.query(`CREATE DATABASE ${database}`);
  url = withDatabase(serverUrl(), database);
});
afterEach(() => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
afterAll(() => admin.end());

it('applies every migration once, recording the sha256 of each file as Prisma does', async () => {
  const files = await readMigrations();
  expect(await migrate(url)).toEqual({ applied: files.map((f) => f.name), alreadyApplied: [] });
  expect(await migrate(url)).toEqual({ applied: [], alreadyApplied: files.map((f) => f.name) });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
  await client.end();
  expect(rows).toEqual(
    files.map((f) => ({ migration_name: f.name, checksum: f.checksum, finished: true, applied_steps_count: 1 })),
  );
  expect(files[0].checksum).toBe(createHash('sha256').update(require('node:fs').readFileSync(path.join(MIGRATIONS_DIR, files[0].name, 'migration.sql'))).digest('hex'));
});

it('refuses a migration that was edited after it was applied', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  await migrate(url, { dir });
  const [first] = await readMigrations(dir);
  writeFileSync(path.join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
  await expect(migrate(url, { dir })).rejects.toThrow(`Migration ${first.name} was changed after it was applied`);
});

it('rolls a failing migration back whole and says which one failed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  mkdirSync(path.join(dir, '29991231000000_broken'));
  writeFileSync(path.join(dir, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n');
  await expect(migrate(url, { dir })).rejects.toThrow(/Migration 29991231000000_broken failed and was rolled back: relation "no_such_table" does not exist/);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const leftovers = await client.query(`SELECT to_regclass('half_done') AS t`);
  const recorded = await client.query(`SELECT 1 FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'`);
  await client.end();
  expect(leftovers.rows[0].t).toBeNull();
  expect(recorded.rowCount).toBe(0);
});

it('refuses, before any change, when a name a pending migration creates is taken by something else (a users table of the application)', async () => {
  const name = `tenantgate_taken_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const server = new pg.Client({ connectionString: process.env.TENANTGATE_TEST_SERVER_URL });
  await server.connect();
  await server.query(`CREATE DATABASE ${name}`);
  const url = withDatabase(process.env.TENANTGATE_TEST_SERVER_URL!, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE users (id serial PRIMARY KEY, login text)`);
    await client.query(`CREATE TYPE "Role" AS ENUM ('reader')`);
    await expect(migrate(url)).rejects.toThrow(
      /^Refusing to migrate: names tenantgate needs are taken by objects it did not create: table "users" \(owned by \w+\), which migration 20261127000000_gateway_core creates; type "Role" \(owned by \w+\), which migration 20261127000000_gateway_core creates\. No migration was applied\./,
    );
    const { rows } = await client.query(`SELECT to_regclass('organizations') AS organizations, (SELECT count(*)::int FROM "_prisma_migrations") AS recorded`);
    expect(rows).toEqual([{ organizations: null, recorded: 0 }]);
  } finally {
    await client.end();
    await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.end();
  }
});
