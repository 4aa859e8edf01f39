import type pg from 'pg';
import { datamodel } from '../generated/tenancy-datamodel';
import { readCatalog, describeProblems, hasProblems, inspect, type TenancyReport } from './catalog';
import { readTenancy, type TenancyDatamodel } from './model';

/** The tenancy report of the database behind `client`, for the schema's models (the generated datamodel by default). */
export async function tenancyReport(client: Pick<pg.ClientBase, 'query'>, model: TenancyDatamodel = datamodel): Promise<TenancyReport> {
  const tenancy = readTenancy(model);
  return inspect(tenancy, await readCatalog(client, tenancy.schemas));
}

/**
 * SECURITY: fail closed. The gateway does not serve a database in which a table
 * with organization_id is not under forced, organization-scoped RLS, or a table is
 * neither a tenant table nor declared global: such a table is readable across
 * organizations, or nobody decided that it may be.
 */
export async function assertTenancy(client: Pick<pg.ClientBase, 'query'>, model: TenancyDatamodel = datamodel): Promise<void> {
  const report = await tenancyReport(client, model);
  if (!hasProblems(report)) return;
  throw new Error(
    `Refusing to start: tenant isolation is not complete.\n${describeProblems(report).map((line) => `  - ${line}`).join('\n')}\n` +
      '`npm run tenancy:migration -- --name <name>` writes a migration with what the tenant tables lack; `npm run tenancy:check` prints this report.',
  );
}
