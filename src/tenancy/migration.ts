import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrationSearchPath, migrationSql, prepareLayout, readLayout, readMigrations } from '../db/migrate';
import { builtSchema } from '../db/schemas';
import type { TenancyReport } from './catalog';
import { tenancyReport } from './check';
import type { TenancyDatamodel } from './model';

/**
 * The tenancy report of the database as it will be once its pending migrations
 * are applied: they run in a transaction that is rolled back, so the database is
 * left as it was. That is how a `CREATE TABLE` migration that is not applied yet
 * is seen by `npm run tenancy:migration`.
 */
export async function reportAfterPendingMigrations(
  adminUrl: string,
  options: { dir?: string; datamodel?: TenancyDatamodel; schema?: string } = {},
): Promise<TenancyReport> {
  const schema = options.schema ?? builtSchema(options.datamodel);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    // As the runner does it (src/db/migrate.ts): tenantgate's schema and records, then its search path.
    const migrations = await readMigrations(options.dir);
    const layout = await readLayout(client, schema, migrations);
    await prepareLayout(client, layout);
    await client.query(`SET LOCAL search_path = ${migrationSearchPath(schema)}`);
    for (const migration of migrations) {
      if (layout.recorded.has(migration.name)) continue;
      await client.query(migrationSql(migration.sql, schema)).catch((error: Error) => {
        // E.g. an enum value added and used by two pending migrations: one transaction cannot do both.
        throw new Error(`Pending migration ${migration.name} fails when the pending migrations are tried together (${error.message}): apply them first with \`npm run db:migrate\`, then run this again.`);
      });
    }
    return await tenancyReport(client, options.datamodel);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

/** The migration's SQL, table by table; null when no tenant table lacks anything. */
export function tenancyMigrationSql(report: TenancyReport): string | null {
  const tables = report.tables.filter((t) => t.fixes.length > 0);
  if (tables.length === 0) return null;
  const sections = tables.map((t) => `-- ${t.table}\n${t.fixes.join('\n')}`);
  return (
    '-- Written by `npm run tenancy:migration` (src/tenancy/): what tenancy needs for the tenant tables that\n' +
    '-- lacked it. Review it like any migration; `npm run db:migrate` applies it.\n\n' +
    `${sections.join('\n\n')}\n`
  );
}

/** `YYYYMMDDHHMMSS`, the UTC time as Prisma names migration folders. */
export function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14);
}

export async function writeTenancyMigration(sql: string, name: string, options: { dir?: string; now: Date }): Promise<string> {
  if (!/^[a-z0-9_]{1,80}$/.test(name)) throw new Error(`--name must be lower-case letters, digits and underscores (got ${JSON.stringify(name)})`);
  const dir = options.dir ?? MIGRATIONS_DIR;
  // After every existing migration, whatever the clock says: it needs the tables they create.
  const latest = (await readMigrations(dir)).map((m) => m.name.slice(0, 14)).pop();
  let stamp = migrationTimestamp(options.now);
  if (latest && stamp <= latest) stamp = String(BigInt(latest) + 1n);
  const folder = path.join(dir, `${stamp}_${name}`);
  await mkdir(folder, { recursive: false });
  const file = path.join(folder, 'migration.sql');
  await writeFile(file, sql);
  return file;
}
