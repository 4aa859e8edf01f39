import type { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client';
import { cancelRunningStatement } from './cancel';
import { writeThisTurn, writeTogether } from './corking-client';

/**
 * What opens a held transaction when it is written with the transaction's
 * first statement instead of on its own (./request-scope.ts,
 * `openRemembered`): `BEGIN READ ONLY; <scope>` as one simple-protocol message,
 * then a check as a named prepared statement, and what the check's rows must
 * say for the statements after it to count.
 */
export interface DeferredOpening {
  /** `BEGIN READ ONLY; SET LOCAL …`: statements without bind parameters. */
  text: string;
  /**
   * The check, a named prepared statement (the database's statement names: so
   * unnamed where those are off, behind PgBouncer < 1.21). PERF: in the simple
   * message it was parsed, analyzed (RLS) and planned for every request, about
   * 40 µs of PostgreSQL's CPU each time (ADR 0100).
   */
  check: CompiledStatement;
  /** Whether the check's rows confirm the scope that `text` set. */
  confirms(rows: pg.QueryResultRow[]): boolean;
}

/**
 * A statement's answer withheld because the message that opened its
 * transaction did not confirm the scope it ran in (a remembered access check
 * that is out of date). Nothing read under that scope reaches the operation.
 */
export class UnconfirmedScopeError extends Error {
  constructor() {
    super("The request's remembered access check is out of date: the operation runs again after the full check");
    this.name = 'UnconfirmedScopeError';
  }
}

/** A statement compiled by the gateway (src/tenancy/compiled-read.ts): its rows come back as arrays. */
export interface CompiledStatement {
  text: string;
  values: unknown[];
}

/** How a held transaction runs compiled statements (src/db/client.ts makes one per database). */
export interface CompiledReads {
  /** Whether the tenant client offers them at all (DATABASE_COMPILED_READS). */
  enabled: boolean;
  /** The prepared statement's name for a text: the one Prisma's statements get too ('' past the cap: unnamed). */
  statementName(text: string, values: readonly unknown[]): string;
}

const utc = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
const parseTimestamp = (value: string) => utc(value);
const parseDate = (value: string) => utc(`${value} 00:00:00`);
const parseInt8 = (value: string) => BigInt(value);
/**
 * The value parsers of compiled reads: node-postgres' own, except where Prisma
 * returns something else. Prisma reads `timestamp` and `date` as UTC and int8
 * as a bigint; node-postgres reads the first two in local time and int8 as text.
 */
const READ_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === 1114) return parseTimestamp;
    if (oid === 1082) return parseDate;
    if (oid === 20) return parseInt8;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

/**
 * A compiled read as node-postgres takes it. PERF: node-postgres copies every
 * query config it is given, own property by property (`cloneQueryConfig`, 1% of
 * a page's CPU); the row mode and the parsers are the same for every read, so
 * they live on the prototype, which the copy keeps, and only three are copied.
 */
class ReadConfig {
  declare readonly rowMode: 'array';
  declare readonly types: typeof READ_TYPES;
  constructor(
    readonly name: string | undefined,
    readonly text: string,
    readonly values: unknown[],
  ) {}
}
Object.defineProperties(ReadConfig.prototype, { rowMode: { value: 'array' }, types: { value: READ_TYPES } });

/** A statement waiting for its turn on the held connection. */
interface Queued {
  config: string | pg.QueryConfig;
  resolve: (result: pg.QueryResult) => void;
  reject: (error: unknown) => void;
}

/**
 * A query's read transaction: the access check's connection, inside
 * `BEGIN READ ONLY`, already scoped by SET LOCAL, on which the request's reads
 * then run through a PrismaClient of their own (a `BoundClient`, below). Access
 * check, BEGIN and scope cost one round trip together. Made and ended by the
 * request's scope (./request-scope.ts), which is its only owner.
 *
 * PERF: the reads are plain operations of a client whose only connection is
 * this one, not an interactive transaction of the shared client: Prisma's
 * interactive-transaction machinery (transaction ids, timers, an operation
 * queue, a proxied client) cost about 0.5 ms of CPU per request
 * (docs/adr/0002-held-read-transaction.md).
 *
 * Statements are serialized: sibling resolvers run concurrently, and each of
 * their statements waits in this transaction's queue until the previous one
 * has answered, so node-postgres never sees a query while another is active
 * (its own queue for that is deprecated and goes away in pg 9). The order is
 * the order in which they were sent, as before.
 *
 * It ends exactly once: `end()` waits for the operations it let in, sends
 * COMMIT or ROLLBACK, unbinds the client and returns the connection to the pool
 * (or destroys it if even that failed). Once ending, it refuses new operations,
 * so nothing a request starts late can run on a connection that serves another
 * request by then.
 */
export class HeldTransaction {
  #state: 'held' | 'ending' | 'ended' = 'held';
  #bound: BoundClient | null = null;
  #pending = 0;
  #idle: (() => void) | null = null;
  #ended: Promise<void> | null = null;
  readonly #queue: Queued[] = [];
  #sending = false;
  /** The opening message, until it is written. */
  #opening: DeferredOpening | null;
  /** Settles with the opening's verdict once its answer is in; null when the transaction was opened before it was held. */
  #confirmation: Promise<boolean> | null = null;
  #unconfirmed = false;

  constructor(
    private readonly connection: pg.PoolClient,
    private readonly clients: BoundClients,
    opening?: DeferredOpening,
    private readonly reads: CompiledReads = { enabled: false, statementName: () => '' },
  ) {
    this.#opening = opening ?? null;
  }

  /** Whether compiled statements run here (else the tenant client uses Prisma's operations). */
  get compiledReads(): boolean {
    return this.reads.enabled;
  }

  /**
   * Runs a compiled statement as a named prepared statement, its rows as
   * arrays. Through `run()`, like every operation: the tenant client's
   * `$readRows` is the caller.
   */
  read(statement: CompiledStatement): Promise<unknown[][]> {
    const config = new ReadConfig(this.reads.statementName(statement.text, statement.values) || undefined, statement.text, statement.values);
    return this.send(config).then((result) => result.rows as unknown[][]);
  }

  get state(): 'held' | 'ending' | 'ended' {
    return this.#state;
  }

  /** The PrismaClient whose operations run in this transaction (bound on first use). */
  get prisma(): PrismaClient {
    this.#assertHeld();
    this.#bound ??= this.clients.bind(this);
    return this.#bound.prisma;
  }

  /**
   * Runs one operation in the transaction. SECURITY: the only way in (the tenant
   * client calls it for every operation), so that `end()` knows what is in flight.
   */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    this.#assertHeld();
    this.#pending += 1;
    try {
      return await operation();
    } finally {
      this.#pending -= 1;
      if (this.#pending === 0) this.#idle?.();
    }
  }

  /** Sends one statement on the held connection once every statement sent before it has answered. */
  send(config: string | pg.QueryConfig): Promise<pg.QueryResult> {
    if (this.#state === 'ended') return Promise.reject(new Error("HeldTransaction: the request's transaction has ended"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ config, resolve, reject });
      if (!this.#sending) this.#next();
    });
  }

  #next(): void {
    const item = this.#queue.shift();
    if (!item) {
      this.#sending = false;
      return;
    }
    this.#sending = true;
    const send = () =>
      // PERF: the callback form (src/db/send-query.ts says why).
      this.connection.query(item.config, (error: Error | null, result: pg.QueryResult) => {
        if (this.#unconfirmed) item.reject(new UnconfirmedScopeError());
        else if (error) item.reject(error);
        else item.resolve(result);
        this.#next();
      });
    if (this.#opening) {
      // PERF: the opening and the first statement in one write, one round trip
      // (the pool pipelines: ./client.ts). Answers come in order, so the opening's
      // verdict is known before the statement's answer is handed on.
      writeTogether(this.connection, () => {
        this.#writeOpening();
        send();
      });
    } else send();
  }

  /** Writes the pending opening message; its answer settles the confirmation. */
  #writeOpening(): Promise<boolean> {
    const opening = this.#opening;
    if (!opening) return this.#confirmation ?? Promise.resolve(true);
    this.#opening = null;
    this.#confirmation = new Promise<boolean>((resolve, reject) => {
      // Both are written now (the pool pipelines). A failure of the first aborts the transaction, and the check
      // fails behind it; answers come in order, so the verdict is known before a later statement's answer.
      this.connection.query(opening.text, (error: Error | null) => {
        if (error) reject(error);
      });
      const { text, values } = opening.check;
      const check: pg.QueryConfig = { name: this.reads.statementName(text, values) || undefined, text, values };
      this.connection.query(check, (error: Error | null, result: pg.QueryResult) => {
        if (error) return reject(error);
        const confirmed = opening.confirms(result.rows);
        this.#unconfirmed = !confirmed;
        resolve(confirmed);
      });
    });
    // Read by confirm(); a failure also fails the statements behind it (the transaction is aborted).
    this.#confirmation.catch(() => undefined);
    return this.#confirmation;
  }

  /**
   * Whether the scope the statements ran in is confirmed: true at once for a
   * transaction opened before it was held; otherwise the opening's verdict
   * (written now if no statement has carried it yet). Rejects if the opening
   * failed.
   */
  confirm(): Promise<boolean> {
    return this.#writeOpening();
  }

  /**
   * Cancels the statement running now, if any (the request's client went away):
   * it fails with 57014, the operation with it, and the transaction ends as on
   * any failure (ROLLBACK, the connection back to the pool). Nothing to cancel
   * once ending: what runs then is the COMMIT or ROLLBACK.
   */
  cancel(): Promise<boolean> {
    if (this.#state !== 'held' || !this.#sending) return Promise.resolve(false);
    return cancelRunningStatement(this.connection);
  }

  #assertHeld(): void {
    if (this.#state !== 'held') throw new Error(`HeldTransaction: the request's transaction has ${this.#state === 'ending' ? 'begun to end' : 'ended'}`);
  }

  /** Ends the transaction (once; later calls wait for the first). COMMIT rethrows a failure; ROLLBACK does not. */
  end(outcome: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    this.#ended ??= this.#end(outcome);
    return this.#ended;
  }

  async #end(outcome: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    this.#state = 'ending';
    if (this.#pending > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    let failure: unknown;
    // An opening never written began nothing: there is nothing to end.
    const begun = this.#opening === null;
    this.#opening = null;
    // Ending reads nothing: its answer is not withheld.
    this.#unconfirmed = false;
    if (begun && outcome === 'COMMIT' && this.connection.pipeline) {
      // PERF: a read-only transaction's COMMIT cannot fail but with its connection. It is written, not waited
      // for, and the connection goes back to the pool at once: the next user's statements queue behind it on
      // the same socket, and PostgreSQL ends this transaction (and its SET LOCALs) before it reads them. The
      // write waits for the end of this turn of the event loop, so that the next user's first message (a
      // request that was waiting for a connection) leaves with it, in one system call.
      writeThisTurn(this.connection, () => this.connection.query('COMMIT', () => undefined));
    } else {
      try {
        if (begun) await this.send(outcome);
      } catch (error) {
        failure = error;
      }
    }
    if (this.#bound) this.clients.unbind(this.#bound);
    this.#bound = null;
    this.#state = 'ended';
    this.connection.release(failure === undefined ? undefined : failure instanceof Error ? failure : true);
    if (failure !== undefined && outcome === 'COMMIT') throw failure;
  }
}

/** A PrismaClient whose every statement runs on the connection bound to it, and on nothing else. */
interface BoundClient {
  readonly prisma: PrismaClient;
  transaction: HeldTransaction | null;
}

/**
 * The PrismaClients that held transactions run on, one per connection held at
 * a time: at most the pool's size, made on demand and reused. Each is about
 * 3 MB of heap and its own query-plan cache.
 *
 * SECURITY: a client's adapter reads its connection at the moment it sends a
 * statement; with no connection bound it throws, so a client can never fall
 * back to the pool, where no scope is set (it would read nothing: RLS fails
 * closed) or another request's scope is.
 */
export class BoundClients {
  readonly #idle: BoundClient[] = [];

  constructor(private readonly makeClient: (adapter: PrismaPg) => PrismaClient, private readonly factory: PrismaPg) {}

  bind(transaction: HeldTransaction): BoundClient {
    const bound = this.#idle.pop() ?? this.#make();
    bound.transaction = transaction;
    return bound;
  }

  unbind(bound: BoundClient): void {
    bound.transaction = null;
    this.#idle.push(bound);
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.#idle.splice(0).map((bound) => bound.prisma.$disconnect()));
  }

  #make(): BoundClient {
    const binding: { transaction: HeldTransaction | null } = { transaction: null };
    const prisma = this.makeClient(boundAdapter(this.factory, binding));
    return Object.assign(binding, { prisma });
  }
}

/**
 * @prisma/adapter-pg (its argument mapping, result types and error conversion),
 * sending every statement on `bound.connection`: its PgQueryable reads the
 * connection from `this.client`. test/request-transaction.test.ts pins this
 * down for the installed version.
 *
 * Prisma starts a transaction of its own only for a batch it cannot run as one
 * statement; on a bound client that becomes a savepoint in the held transaction.
 */
function boundAdapter(factory: PrismaPg, bound: { transaction: HeldTransaction | null }): PrismaPg {
  const connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await factory.connect();
    // Only its query methods are used, on the bound connection: let go of the pool it listens to.
    await adapter.dispose();
    if (!('client' in adapter)) {
      throw new Error('@prisma/adapter-pg no longer keeps its connection in `client`: src/db/request-transaction.ts needs updating');
    }
    // What PgQueryable calls `client.query(config)` on: the bound transaction's
    // queue, read at the moment of sending.
    const connection = {
      query(config: pg.QueryConfig) {
        if (!bound.transaction) throw new Error('A bound PrismaClient ran a statement with no request transaction bound to it');
        return bound.transaction.send(config);
      },
    };
    const queryable = Object.create(adapter, { client: { value: connection } }) as SqlDriverAdapter;
    let savepoints = 0;
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      queryRaw: (query) => queryable.queryRaw(query),
      executeRaw: (query) => queryable.executeRaw(query),
      executeScript: () => Promise.reject(new Error('A bound PrismaClient does not run scripts')),
      getConnectionInfo: adapter.getConnectionInfo && (() => adapter.getConnectionInfo!()),
      dispose: async () => undefined,
      startTransaction: async (isolationLevel) => {
        if (isolationLevel) throw new Error('A held request transaction has its own isolation level');
        const name = `tg_batch_${++savepoints}`;
        const run = (sql: string) => queryable.executeRaw({ sql, args: [], argTypes: [] } as SqlQuery).then(() => undefined);
        await run(`SAVEPOINT ${name}`);
        // Prisma ends its transaction by sending COMMIT or ROLLBACK itself: here those end the savepoint.
        const end = { COMMIT: `RELEASE SAVEPOINT ${name}`, ROLLBACK: `ROLLBACK TO SAVEPOINT ${name}` } as Record<string, string>;
        const transaction: Transaction = {
          provider: adapter.provider,
          adapterName: adapter.adapterName,
          options: { usePhantomQuery: false },
          queryRaw: (query) => queryable.queryRaw(query),
          executeRaw: (query) => queryable.executeRaw(end[query.sql] ? { ...query, sql: end[query.sql] } : query),
          commit: async () => undefined,
          rollback: async () => undefined,
          createSavepoint: (savepoint) => run(`SAVEPOINT ${savepoint}`),
          rollbackToSavepoint: (savepoint) => run(`ROLLBACK TO SAVEPOINT ${savepoint}`),
          releaseSavepoint: (savepoint) => run(`RELEASE SAVEPOINT ${savepoint}`),
        };
        return transaction;
      },
    };
  };
  return Object.assign(Object.create(factory) as PrismaPg, { connect });
}
