/**
 * npm run platform:add-operator -- --email <email> [--reason <why>]
 *
 * Lists the user with that email in platform_operators (creating the user when
 * the email has none), so that `npm run token -- --platform-admin` can mint
 * their platform token. Writes through DATABASE_ADMIN_URL (or the embedded
 * PostgreSQL), as the other scripts do; recorded in the platform audit log.
 */
import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase } from '../src/db/system';
import { addPlatformOperator } from '../src/platform/operators';

const USAGE = 'usage: npm run platform:add-operator -- --email <email> [--reason <why>]';

async function main() {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, reason: { type: 'string', default: 'Added with npm run platform:add-operator' } },
    strict: true,
  });
  const email = values.email?.trim().toLowerCase();
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error(`--email must be an email address\n${USAGE}`);
  if (!values.reason.trim()) throw new Error(`--reason must not be empty\n${USAGE}`);

  loadDotEnv();
  const connections = await resolveConnections(loadConfig());
  try {
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: only the admin role writes the list of platform operators.');
    const system = createSystemDatabase(connections.adminUrl);
    try {
      const operator = await addPlatformOperator(system, { email, reason: values.reason.trim() });
      if (operator.alreadyOperator) console.log(`${operator.email} already is a platform operator; nothing changed.`);
      else console.log(`${operator.email}${operator.createdUser ? ' (a new user)' : ''} is now a platform operator.`);
      console.log('Their token: npm run token -- --platform-admin --email ' + operator.email);
    } finally {
      await system.close();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`platform:add-operator: ${error.message}`);
  process.exit(1);
});
