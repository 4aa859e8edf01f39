import { datamodel } from '../generated/tenancy-datamodel';
import { StartupError } from '../ops/startup-errors';
import type { TenancyDatamodel } from '../tenancy/model';

/**
 * Where tenantgate's tables live (docs/adr/0090-own-schema.md): its own models in
 * a PostgreSQL schema of their own (`tenantgate` unless changed), the
 * application's models (Task, and any the user adds) in the application's
 * schema, `public`, so that tenantgate can share a database that already has a
 * `users` table.
 *
 * Prisma compiles each model's schema (`@@schema` in prisma/schema.prisma) into
 * the client, so the name is chosen there; DATABASE_SCHEMA says which schema a
 * deployment expects, and `assertBuiltSchema` refuses a client generated for
 * another one. Raw SQL and the SQL functions find the tables through the
 * connections' `search_path`: `<schema>, public`, set by the migration runner
 * for the migrations, as a startup option for the admin connections
 * (`withSearchPath`), and on the runtime login role in the database for the
 * runtime pool (`ensureRuntimeRole`, src/db/migrate.ts), which also serves
 * behind PgBouncer.
 */

/** The schema of tenantgate's own tables when nothing says otherwise. */
export const DEFAULT_SCHEMA = 'tenantgate';

/** The application's schema: the user's models, and where `search_path` looks after tenantgate's. */
export const APPLICATION_SCHEMA = 'public';

/** The model that is always tenantgate's own: its schema is tenantgate's schema. */
const ANCHOR_MODEL = 'Organization';

/** The schema the generated client puts tenantgate's models in (`@@schema` of Organization). */
export function builtSchema(model: TenancyDatamodel = datamodel): string {
  return model.models.find((m) => m.name === ANCHOR_MODEL)?.schema ?? APPLICATION_SCHEMA;
}

/** A schema name as SQL: quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The search path of every tenantgate connection: its own schema, then the application's. */
export function searchPath(schema: string): string {
  return `${quoteIdent(schema)}, ${APPLICATION_SCHEMA}`;
}

/**
 * The URL with `-c search_path=<schema>,public` in its `options` startup
 * parameter (any search_path already there is replaced, other options kept).
 * For admin connections, which tenantgate cannot configure on the role: the
 * owner role may be the database's superuser, shared with other applications.
 */
export function withSearchPath(url: string, schema: string = builtSchema()): string {
  const parsed = new URL(url);
  const kept = (parsed.searchParams.get('options') ?? '').replace(/(^|\s)(-c\s*|--)search_path=\S*/g, '').trim();
  // Inside the options string a space separates options (a backslash escapes one): no spaces here.
  const setting = `-c search_path=${/^[a-z_][a-z0-9_]*$/.test(schema) ? schema : quoteIdent(schema).replace(/ /g, '\\ ')},${APPLICATION_SCHEMA}`;
  parsed.searchParams.set('options', kept ? `${kept} ${setting}` : setting);
  return parsed.toString();
}

/** The error code of a schema mismatch, for scripts and logs. */
export const SCHEMA_MISMATCH = 'TG_SCHEMA_MISMATCH';

/**
 * Refuses a configuration whose DATABASE_SCHEMA is not the schema the generated
 * client was built for: the client would read tables the runner never created.
 */
export function assertBuiltSchema(configured: string, built: string = builtSchema()): void {
  if (configured === built) return;
  throw Object.assign(
    new StartupError(
      `${SCHEMA_MISMATCH}: DATABASE_SCHEMA is "${configured}", but the generated Prisma client puts tenantgate's models in "${built}". ` +
        `Either unset DATABASE_SCHEMA (or set it to "${built}"), or change @@schema("${built}") of tenantgate's models and the datasource's schemas in prisma/schema.prisma to "${configured}" and run \`npm run generate\`.`,
    ),
    { code: SCHEMA_MISMATCH },
  );
}
