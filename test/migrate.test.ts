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
  // In tenantgate's schema (docs/adr/0090-own-schema.md).
  const { rows } = await client.query('SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM tenantgate._prisma_migrations ORDER BY migration_name');
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
  // Unqualified, it would have been created in tenantgate's schema, which the runner puts first in search_path.
  const leftovers = await client.query(`SELECT to_regclass('tenantgate.half_done') AS t`);
  const recorded = await client.query(`SELECT 1 FROM tenantgate._prisma_migrations WHERE migration_name = '29991231000000_broken'`);
  await client.end();
  expect(leftovers.rows[0].t).toBeNull();
  expect(recorded.rowCount).toBe(0);
});

it('refuses, before any change, when a name a pending migration creates is taken by something else; an application\'s users table is no such name', async () => {
  const name = `tenantgate_taken_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const server = new pg.Client({ connectionString: process.env.TENANTGATE_TEST_SERVER_URL });
  await server.connect();
  await server.query(`CREATE DATABASE ${name}`);
  const url = withDatabase(process.env.TENANTGATE_TEST_SERVER_URL!, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The application's: tenantgate's own tables and types live in a schema of their own (test/own-schema.test.ts).
    await client.query(`CREATE TABLE users (id serial PRIMARY KEY, login text)`);
    await client.query(`CREATE TYPE "Role" AS ENUM ('reader')`);
    // Someone else's, where tenantgate's go.
    await client.query(`CREATE SCHEMA tenantgate; CREATE TYPE tenantgate."Plan" AS ENUM ('gold')`);
    await expect(migrate(url)).rejects.toThrow(
      /^Refusing to migrate \(TG_MIGRATE_NAME_TAKEN\): names tenantgate needs are taken by objects it did not create: schema "tenantgate" exists and holds type tenantgate\."Plan", which tenantgate did not create; type "tenantgate"\."Plan" \(owned by \w+\), which migration 20261127010000_organizations_members_departments creates\. Nothing was changed\./,
    );
    const { rows } = await client.query(`SELECT to_regclass('tenantgate.organizations') AS organizations, to_regclass('tenantgate._prisma_migrations') AS recorded, to_regnamespace('app') AS app`);
    expect(rows).toEqual([{ organizations: null, recorded: null, app: null }]);
  } finally {
    await client.end();
    await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.end();
  }
});
