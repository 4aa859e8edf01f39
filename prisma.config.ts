import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Prisma 7 fetches its schema engine before any CLI command, and `generate` never
// uses it. The stub lets `prisma generate` run offline; see prisma/engine-stub.sh.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'prisma', 'engine-stub.sh');
process.env.CHECKPOINT_DISABLE ??= '1';

function withSchema(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('schema')) parsed.searchParams.set('schema', process.env.DATABASE_SCHEMA || 'tenantgate');
  return parsed.toString();
}

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  // `migrate deploy` (for users who have the engine) runs as the owner role, with tenantgate's schema
  // as its default: its migrations table and unqualified names are there (docs/adr/0090-own-schema.md).
  datasource: { url: withSchema(process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgresql://localhost:5432/tenantgate') },
});
