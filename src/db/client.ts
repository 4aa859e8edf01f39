import { PrismaPg } from '@prisma/adapter-pg';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { PATCHES, patchApplies } from '../patches';
import { installPlainPrismaPromises } from './prisma-promise';
import { connectionFailure } from './database-errors';
import { CorkingClient } from './corking-client';
import { BoundClients, HeldTransaction, type DeferredOpening } from './request-transaction';
import { StatementAttribution, statementText } from './statement-attribution';

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
  /**
   * A read transaction on `connection`, which the caller has opened and scoped
   * (src/context.ts): its reads run on a PrismaClient bound to that connection.
   */
  holdTransaction(connection: pg.PoolClient, opening?: DeferredOpening): HeldTransaction;
  /**
   * Whether a query's reads run in the access check's transaction (the held
   * transaction). False when the bound adapter's patch does not apply to the
   * installed @prisma/adapter-pg (src/patches.ts), or when turned off.
   */
  readonly heldReads: boolean;
  /** Statements sent to PostgreSQL since start, BEGIN and COMMIT included: the round trips. */
  statementCount(): number;
  /** Which request each statement serves (the request log's `statements`). */
  readonly attribution: StatementAttribution;
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
  /**
   * PostgreSQL's statement_timeout for every statement of this pool, in ms
   * (issue 13: no request holds a connection for minutes). 0: none.
   * @default 0
   */
  statementTimeoutMs?: number;
  /**
   * Name Prisma's statements so each connection prepares them once. Off behind
   * PgBouncer in transaction mode before 1.21 (a statement prepared on one
   * server connection is unknown on the next): DATABASE_NAMED_STATEMENTS=false.
   * @default true
   */
  namedStatements?: boolean;
  /** idle_in_transaction_session_timeout of this pool's sessions, in ms. 0: none. @default 0 */
  idleInTransactionTimeoutMs?: number;
  /** Called with the text of every statement sent (tests assert the list; debugging). */
  onStatement?: (sql: string) => void;
  /**
   * Run a query's reads in the access check's transaction.
   * @default true when the installed @prisma/adapter-pg is one src/patches.ts knows
   */
  heldReads?: boolean;
  /**
   * Run the lists and gets of tenant models in a query's read transaction as
   * SQL compiled by the gateway (src/tenancy/compiled-read.ts) rather than
   * through Prisma's runtime. Off: Prisma's operations, same rows.
   * @default true
   */
  compiledReads?: boolean;
}

/**
 * Names for Prisma's statements, so that each pooled connection prepares a
 * statement once and PostgreSQL plans it from its cache afterwards.
 *
 * PERF: sent unnamed, the projects page (owners joined) was parsed and planned
 * on every request: 1.4 ms of PostgreSQL's CPU to plan, 0.7 ms to run (EXPLAIN
 * ANALYZE in `npm run bench`). Prisma's query compiler turns a query shape into
 * the same SQL text every time, with the values as parameters, so the set of
 * texts is small. Statements without parameters are left unnamed: they are the
 * SET LOCAL statements, whose text carries the organization and would prepare
 * one statement per organization. The names are capped: past the cap, a new
 * text runs unnamed, so no input can grow the connections' caches without bound.
 */
function preparedStatementNames(cap = 2_000): (query: { sql: string; args: readonly unknown[] }) => string {
  const names = new Map<string, string>();
  return ({ sql, args }) => {
    if (args.length === 0) return '';
    let name = names.get(sql);
    if (name === undefined && names.size < cap) {
      name = `tg_${createHash('sha1').update(sql).digest('base64url')}`;
      names.set(sql, name);
    }
    return name ?? '';
  };
}

export function createDatabase({ url, max = 10, applicationName = 'tenantgate', onStatement, statementTimeoutMs, idleInTransactionTimeoutMs, namedStatements = true, heldReads, compiledReads = true }: DatabaseOptions): Database {
  // The timeouts are startup parameters: set once per connection, no statement per
  // request. PgBouncer refuses unknown startup parameters: behind it, list them in
  // its ignore_startup_parameters and set them on the role instead (docs/guides/limits-and-fairness.md).
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    // PERF: a statement is written as soon as it is issued, not when the one
    // before has answered, so a held transaction's opening message and first
    // statement travel together (./request-transaction.ts). Answers are still
    // matched in order; only one caller uses a connection at a time.
    pipeline: true,
    Client: CorkingClient,
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    ...(idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: idleInTransactionTimeoutMs } : {}),
  });
  let statements = 0;
  const attribution = new StatementAttribution();
  pool.on('release', (_error: Error | undefined, client: pg.PoolClient) => attribution.release(client));
  // PERF: counting every statement at the driver is how the tests prove "no N+1"
  // and how the benchmark reports round trips per request. It costs one increment.
  pool.on('connect', (client) => {
    // SECURITY/availability: a checked-out connection that the server ends (a
    // restart, idle_in_transaction_session_timeout) emits 'error'; without a
    // listener that would end the process. Its next statement fails instead,
    // and the request releases it as broken.
    client.on('error', () => undefined);
    const send = client.query;
    Object.defineProperty(client, 'query', {
      configurable: true,
      writable: true,
      value(...args: unknown[]): unknown {
        statements += 1;
        attribution.count(client, args[0]);
        if (onStatement) onStatement(statementText(args[0]));
        // A statement that fails because the connection died (the server restarted, the
        // network cut it) fails as DatabaseUnavailableError: node-postgres says so in a
        // message only, and the gateway answers it with 503 DATABASE_UNAVAILABLE.
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback === 'function') {
          args[last] = (error: Error | null, result: unknown) => callback(error && connectionFailure(error, client), result);
          return Reflect.apply(send, client, args);
        }
        const sent: unknown = Reflect.apply(send, client, args);
        return sent instanceof Promise ? sent.catch((error: Error) => Promise.reject(connectionFailure(error, client))) : sent;
      },
    });
  });
  // An idle client that errors (e.g. the server restarted) must not crash the process.
  pool.on('error', () => undefined);
  const names = namedStatements ? preparedStatementNames() : null;
  const adapter = new PrismaPg(pool, names ? { statementNameGenerator: names } : {});
  // Compiled reads share the names (and their cap) with Prisma's statements.
  const reads = { enabled: compiledReads, statementName: (sql: string, args: readonly unknown[]) => (names ? names({ sql, args }) : '') };
  const options = {
    // Every tenant operation is a transaction, so under load it waits for a pooled
    // connection here. Prisma's default (2 s) fails requests that would be served
    // a moment later; queueing for up to 10 s is what a pool is for.
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
    // PERF: any other format captures a stack trace (`new Error()`) on every
    // operation, to point at the calling line should it fail: the largest single
    // item of Prisma's own CPU per request in the benchmark's profile. Errors
    // still say what failed; the gateway masks them from clients anyway.
    errorFormat: 'minimal',
  } as const;
  // PERF: PrismaPromises without a getter, whose results V8 would keep through
  // young-generation collections (src/db/prisma-promise.ts).
  const plainPromises = patchApplies(PATCHES.prismaPromise);
  const newClient = (clientAdapter: typeof adapter) => {
    const client = new PrismaClient({ adapter: clientAdapter, ...options });
    if (plainPromises && !installPlainPrismaPromises(client)) {
      // In the version range, yet not the shape it copies: said once, like a version out of range.
      patchApplies(PATCHES.prismaPromise, { version: 'an unrecognized _createPrismaPromise' });
    }
    return client;
  };
  const prisma = newClient(adapter);
  // The clients of held read transactions: same adapter options (statement names included).
  const bound = new BoundClients(newClient, adapter);
  return {
    prisma,
    pool,
    holdTransaction: (connection, opening) => new HeldTransaction(connection, bound, opening, reads),
    heldReads: heldReads ?? patchApplies(PATCHES.boundAdapter),
    statementCount: () => statements,
    attribution,
    async close() {
      await prisma.$disconnect();
      await bound.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
