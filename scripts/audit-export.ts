/**
 * npm run audit:export -- --org <slug> --since <date> [--until <date>] > audit.jsonl
 *
 * Prints the organization's audit log as JSON lines, oldest first. Works while
 * the gateway runs (the same embedded PostgreSQL) or with DATABASE_ADMIN_URL.
 */
import { parseArgs } from 'node:util';
import { exportAuditLog } from '../src/audit/export';
import { loadConfig } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase } from '../src/db/system';

const USAGE = 'usage: npm run audit:export -- --org <slug> --since <date, e.g. 2026-01-01> [--until <date>]';

async function main() {
  const { values } = parseArgs({ options: { org: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } } });
  const since = values.since ? new Date(values.since) : null;
  const until = values.until ? new Date(values.until) : undefined;
  if (!values.org || !since || Number.isNaN(since.getTime()) || (until && Number.isNaN(until.getTime()))) {
    console.error(USAGE);
    process.exit(2);
  }
  const connections = await resolveConnections(loadConfig(), { onLog: () => undefined });
  if (!connections.adminUrl) throw new Error('audit:export needs DATABASE_ADMIN_URL');
  const system = createSystemDatabase(connections.adminUrl);
  try {
    const { entries } = await exportAuditLog(system.pool, {
      slug: values.org,
      since,
      until,
      write: (line) => new Promise<void>((resolve) => (process.stdout.write(line) ? resolve() : process.stdout.once('drain', () => resolve()))),
    });
    console.error(`${entries} entries`);
  } finally {
    await system.close();
  }
}

main().catch((error: Error) => {
  console.error(`audit:export failed: ${error.message}`);
  process.exit(1);
});
