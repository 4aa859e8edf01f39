/**
 * npm run billing:invoice -- [--period YYYY-MM]   invoices a month (default: last month), then marks past due
 * npm run billing:past-due                         turns PAST_DUE the subscriptions with an overdue invoice
 *
 * The platform's own billing jobs (a cron runs billing:invoice monthly and
 * billing:past-due daily), through DATABASE_ADMIN_URL or the embedded
 * PostgreSQL, as the other scripts do. Both are idempotent: run them again and
 * they change nothing more. See src/billing/invoicing.ts and payments.ts.
 */
import { parseArgs } from 'node:util';
import { generateInvoices, describeInvoiceRun } from '../src/billing/invoicing';
import { markPastDue } from '../src/billing/payments';
import { parsePeriod, previousPeriod, type BillingPeriod } from '../src/billing/period';
import { loadConfig, loadDotEnv } from '../src/config';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase, type SystemDatabase } from '../src/db/system';

const USAGE = ['usage: npm run billing:invoice -- [--period YYYY-MM]', '       npm run billing:past-due'].join('\n');

type Job = (system: SystemDatabase) => Promise<void>;

/** The job named by the first argument, its arguments checked before any connection is made. */
function chooseJob(argv: string[], now: Date): Job {
  const [command, ...rest] = argv;
  if (command === 'invoice') {
    const { values } = parseArgs({ args: rest, options: { period: { type: 'string' } }, strict: true });
    let period: BillingPeriod;
    try {
      period = values.period === undefined ? previousPeriod(now) : parsePeriod(values.period, now);
    } catch (error) {
      throw new Error(`--period ${(error as Error).message}`);
    }
    return async (system) => {
      console.log(`Invoiced ${describeInvoiceRun(await generateInvoices(system, { period, now }))}.`);
      await reportPastDue(system, now);
    };
  }
  if (command === 'past-due') {
    parseArgs({ args: rest, options: {}, strict: true });
    return (system) => reportPastDue(system, now);
  }
  throw new Error(`unknown job ${JSON.stringify(command ?? '')}`);
}

async function reportPastDue(system: SystemDatabase, now: Date): Promise<void> {
  const ids = await markPastDue(system, now);
  const organizations = await system.prisma.organization.findMany({ where: { id: { in: ids } }, select: { slug: true }, orderBy: { slug: 'asc' } });
  console.log(`Past due: ${ids.length} subscription${ids.length === 1 ? '' : 's'} turned PAST_DUE${ids.length ? ` (${organizations.map((o) => o.slug).join(', ')})` : ''}.`);
}

async function main() {
  let job: Job;
  try {
    job = chooseJob(process.argv.slice(2), new Date());
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  loadDotEnv();
  const connections = await resolveConnections(loadConfig());
  try {
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: billing jobs write invoices and subscriptions as the owner role.');
    const system = createSystemDatabase(connections.adminUrl);
    try {
      await job(system);
    } finally {
      await system.close();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`billing: ${error.message}`);
  process.exit(1);
});
