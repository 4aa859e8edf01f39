/**
 * npm run tenancy:migration -- --name add_tasks: writes a Prisma-format migration
 * with what tenancy needs (forced RLS, policies, organization_id default,
 * composite keys and indexes, grants) for the tenant tables that lack it, as the
 * database will be once its pending migrations (your CREATE TABLE) are applied.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { reportAfterPendingMigrations, tenancyMigrationSql, writeTenancyMigration } from '../src/tenancy/migration';

async function main() {
  const { values } = parseArgs({ options: { name: { type: 'string' } } });
  if (!values.name) throw new Error('usage: npm run tenancy:migration -- --name <migration_name>');
  const connections = await resolveConnections(loadConfig());
  try {
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: the catalog is read as the owner role.');
    const report = await reportAfterPendingMigrations(connections.adminUrl);
    if (report.refused.length) throw new Error(`fix the schema first:\n${report.refused.map((l) => `  - ${l}`).join('\n')}`);
    if (report.missingTables.length) {
      console.log(`No table yet for ${report.missingTables.join(', ')}: write its CREATE TABLE migration first (prisma migrate dev --create-only, or by hand).`);
    }
    const sql = tenancyMigrationSql(report);
    if (!sql) {
      console.log('Every tenant table has what tenancy needs: nothing to write.');
      return;
    }
    const file = await writeTenancyMigration(sql, values.name, { now: new Date() });
    console.log(`Wrote ${file}\nfor: ${report.tables.filter((t) => t.fixes.length).map((t) => t.table).join(', ')}. Review it, then \`npm run db:migrate\`.`);
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`tenancy:migration failed: ${error.message}`);
  process.exit(1);
});
