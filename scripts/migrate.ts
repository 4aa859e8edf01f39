/**
 * npm run db:migrate: applies pending migrations through DATABASE_ADMIN_URL and
 * creates the runtime role named in DATABASE_URL (with its grants). Without
 * DATABASE_URL it migrates the embedded PostgreSQL in .data/.
 */
import { loadConfig, loadDotEnv } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { ensureRuntimeRole, migrate, redactUrl } from '../src/db/migrate';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const connections = await resolveConnections(config);
  try {
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: migrations run as the owner role, not as the runtime role of DATABASE_URL.');
    const { applied, alreadyApplied } = await migrate(connections.adminUrl, { schema: config.databaseSchema });
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : `Nothing to apply (${alreadyApplied.length} migrations already applied).`);
    const role = await ensureRuntimeRole(connections.adminUrl, connections.runtimeUrl, { schema: config.databaseSchema });
    console.log(`Runtime role "${role.role}" ${role.created ? 'created' : 'exists'}, is a member of tenantgate_runtime and finds tenantgate's tables in schema "${config.databaseSchema}" (${redactUrl(connections.runtimeUrl)}).`);
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`db:migrate failed: ${error.message}`);
  process.exit(1);
});
