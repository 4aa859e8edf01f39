/** npm run db:seed: the demo dataset (organizations acme and globex), through DATABASE_ADMIN_URL. Idempotent. */
import { loadConfig, loadDotEnv } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { migrate } from '../src/db/migrate';
import { createSystemDatabase } from '../src/db/system';
import { seedDemo } from '../src/demo/seed';

async function main() {
  loadDotEnv();
  const connections = await resolveConnections(loadConfig());
  try {
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: the seed writes as the owner role.');
    const { applied } = await migrate(connections.adminUrl);
    if (applied.length) console.log(`Applied migrations first: ${applied.join(', ')}`);
    const system = createSystemDatabase(connections.adminUrl);
    try {
      const { created } = await seedDemo(system);
      console.log(created ? 'Seeded the demo dataset.' : 'The demo dataset is already there; nothing changed.');
    } finally {
      await system.close();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`db:seed failed: ${error.message}`);
  process.exit(1);
});
