import { createDatabase, type Database } from './client';
import { withSearchPath } from './schemas';

/**
 * The system client: the admin (owner) role, which bypasses row-level security.
 * For migrations, the seed, `npm run token` and platform jobs that must see
 * every organization. Its connections find tenantgate's tables through the
 * `search_path` startup option (src/db/schemas.ts).
 *
 * SECURITY: nothing under src/schema may import this file (test/architecture.test.ts
 * fails if one does); resolvers only ever get the request's tenant client.
 */
export type SystemDatabase = Database & { readonly kind: 'system' };

export function createSystemDatabase(adminUrl: string): SystemDatabase {
  return Object.assign(createDatabase({ url: withSearchPath(adminUrl), max: 2, applicationName: 'tenantgate-system' }), { kind: 'system' as const });
}
