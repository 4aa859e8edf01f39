/**
 * npm run tenancy:check: the report the gateway refuses to start with, without
 * starting it. Exits 1 when a table is not isolated or not declared, or a model
 * is refused. Without a database (DATABASE_URL unset and no embedded one wanted:
 * --schema-only) it checks the models only.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { datamodel } from '../src/generated/tenancy-datamodel';
import { describeProblems, hasProblems } from '../src/tenancy/catalog';
import { tenancyReport } from '../src/tenancy/check';
import { describeRefusals, readTenancy } from '../src/tenancy/model';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'schema-only': { type: 'boolean' } } });
  const tenancy = readTenancy(datamodel);
  console.log(`Models: ${tenancy.tenant.length} tenant (${tenancy.tenant.map((m) => m.name).join(', ')}), ${tenancy.global.length} global (${tenancy.global.map((m) => m.name).join(', ')}).`);
  if (values['schema-only']) {
    const refused = describeRefusals(tenancy.refused);
    for (const line of refused) console.log(`  - ${line}`);
    return refused.length ? 1 : 0;
  }
  const connections = await resolveConnections(loadConfig());
  try {
    const url = connections.adminUrl ?? connections.runtimeUrl;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const report = await tenancyReport(client);
      console.log(`Tables: ${report.tables.map((t) => `${t.table} (${t.kind})`).join(', ')}.`);
      if (report.missingTables.length) console.log(`Not in the database yet (run db:migrate): ${report.missingTables.join(', ')}.`);
      const pending = report.tables.filter((t) => t.fixes.length).map((t) => t.table);
      if (pending.length) console.log(`tenancy:migration would add to: ${pending.join(', ')}.`);
      if (!hasProblems(report)) {
        console.log('Tenant isolation is complete.');
        return 0;
      }
      console.log('Tenant isolation is NOT complete; the gateway refuses to start:');
      for (const line of describeProblems(report)) console.log(`  - ${line}`);
      return 1;
    } finally {
      await client.end();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`tenancy:check failed: ${error.message}`);
    process.exit(1);
  },
);
