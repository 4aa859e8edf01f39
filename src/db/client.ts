import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { adapterWithHeldTransactions } from './request-transaction';

/**
 * One PostgreSQL pool and the PrismaClient on top of it, per process and per role.
 *
 * Nothing outside `src/db` imports this: resolvers reach the database only through
 * the tenant client (./tenant.ts), platform jobs through the system client
 * (./system.ts).
 */
export interface Database {
  /** The unscoped client. Connected as the runtime role it sees no tenant rows (RLS fails closed). */
  readonly prisma: PrismaClient;
  readonly pool: pg.Pool;
  /** Statements sent to PostgreSQL since start, BEGIN and COMMIT included: the round trips. */
  statementCount(): number;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL. */
  url: string;
  /**
   * Connections in the pool.
   * @default 10
   */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** Called with the text of every statement sent (tests assert the list; debugging). */
  onStatement?: (sql: string) => void;
}

export function createDatabase({ url, max = 10, applicationName = 'tenantgate', onStatement }: DatabaseOptions): Database {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName });
  let statements = 0;
  // PERF: counting every statement at the driver is how the tests prove "no N+1"
  // and how the benchmark reports round trips per request. It costs one increment.
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements += 1;
      if (onStatement) {
        const first = args[0];
        onStatement(typeof first === 'string' ? first : String((first as { text?: string })?.text ?? ''));
      }
      return query(...args);
    };
  });
  // An idle client that errors (e.g. the server restarted) must not crash the process.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({
    // A request's held transaction (its access check's) becomes its Prisma transaction.
    adapter: adapterWithHeldTransactions(new PrismaPg(pool)),
    // Every tenant operation is a transaction, so under load it waits for a pooled
    // connection here. Prisma's default (2 s) fails requests that would be served
    // a moment later; queueing for up to 10 s is what a pool is for.
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  });
  return {
    prisma,
    pool,
    statementCount: () => statements,
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
