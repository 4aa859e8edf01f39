import { loadConfig } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase } from '../src/db/system';
import { recheckDomains } from '../src/domains/recheck';
import { servicesFromConfig } from '../src/domains/services';

/** `npm run domains:recheck`: the daily re-check of verified domains (src/domains/recheck.ts). Run it from cron once a day. */
async function main(): Promise<void> {
  const config = loadConfig();
  const connections = await resolveConnections(config);
  if (!connections.adminUrl) throw new Error('domains:recheck needs DATABASE_ADMIN_URL (or the embedded database)');
  const system = createSystemDatabase(connections.adminUrl);
  const services = servicesFromConfig(config);
  try {
    const result = await recheckDomains(system, services);
    console.log(`Re-checked ${result.checked} verified domains: ${result.lost.length} missing their proof, ${result.unverified.length} unverified (${result.unverified.join(', ') || 'none'}).`);
  } finally {
    services.mailer.close();
    await system.close();
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`domains:recheck failed: ${error.message}`);
  process.exit(1);
});
