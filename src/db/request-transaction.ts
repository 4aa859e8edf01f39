import { AsyncLocalStorage } from 'node:async_hooks';
import type { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import type pg from 'pg';


/**
 * A transaction that the request opened before Prisma ran anything: the access
 * check's connection (src/context.ts), inside `BEGIN READ ONLY`, already scoped
 * by SET LOCAL. The request's reads then run in it through Prisma
 * (src/db/tenant.ts hands it over), so the access check, BEGIN and the scope
 * cost one round trip together instead of three.
 *
 * It ends exactly once: through Prisma (COMMIT or ROLLBACK, then the connection
 * goes back to the pool) once handed over, else through `end()`.
 */
export class HeldTransaction {
  #state: 'held' | 'handed' | 'ended' = 'held';

  constructor(private readonly client: pg.PoolClient) {}

  get state(): 'held' | 'handed' | 'ended' {
    return this.#state;
  }

  /** Prisma's transaction on this connection (once only). */
  handTo(adapter: SqlDriverAdapter): Transaction {
    if (this.#state !== 'held') throw new Error(`HeldTransaction: cannot hand over a transaction that is ${this.#state}`);
    this.#state = 'handed';
    // The adapter's own query methods (argument mapping, result types, error
    // conversion), run on this connection: @prisma/adapter-pg's PgQueryable reads
    // its connection from `this.client`. test/request-transaction.test.ts pins
    // this down for the installed version.
    const queryable = Object.create(adapter, { client: { value: this.client } }) as SqlDriverAdapter;
    const run = (sql: string) => queryable.executeRaw({ sql, args: [], argTypes: [] } as SqlQuery).then(() => undefined);
    // Prisma sends COMMIT or ROLLBACK itself and then calls commit() or rollback().
    const release = async () => {
      this.#state = 'ended';
      this.client.release();
    };
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      options: { usePhantomQuery: false },
      queryRaw: (query) => queryable.queryRaw(query),
      executeRaw: (query) => queryable.executeRaw(query),
      commit: release,
      rollback: release,
      createSavepoint: (name) => run(`SAVEPOINT ${name}`),
      rollbackToSavepoint: (name) => run(`ROLLBACK TO SAVEPOINT ${name}`),
      releaseSavepoint: (name) => run(`RELEASE SAVEPOINT ${name}`),
    };
  }

  /**
   * Ends a transaction that Prisma never took: COMMIT (a request that read
   * nothing) or ROLLBACK, and the connection goes back to the pool, or is
   * destroyed if even that failed. Does nothing once ended or handed over.
   */
  async end(outcome: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (this.#state !== 'held') return;
    this.#state = 'ended';
    try {
      await this.client.query(outcome);
      this.client.release();
    } catch (error) {
      this.client.release(error instanceof Error ? error : true);
      if (outcome === 'COMMIT') throw error;
    }
  }
}

/**
 * Which held transaction Prisma's next startTransaction() takes. PERF: the one
 * AsyncLocalStorage of the process (see src/db/tenant.ts on why there is only
 * one); it is entered only around opening a request's transaction.
 * SECURITY: the store travels with the async context of the request that
 * opened the transaction, never through shared state, so a transaction cannot be
 * handed to another request's operations. Should Prisma ever start the
 * transaction outside that context, it gets a new connection that nobody scoped
 * (src/db/tenant.ts sends no SET LOCAL for a held transaction): RLS then shows
 * no rows. It fails closed, never open. test/request-transaction.test.ts checks
 * that the reads do run on the held connection.
 */
const handOff = new AsyncLocalStorage<HeldTransaction>();

/** Runs `open` (which starts one Prisma transaction) so that the transaction is `held`. */
export function withHeldTransaction<T>(held: HeldTransaction, open: () => T): T {
  return handOff.run(held, open);
}

/**
 * @prisma/adapter-pg, except that a transaction started inside
 * `withHeldTransaction` is the held one instead of a new connection with BEGIN.
 */
export function adapterWithHeldTransactions(factory: PrismaPg): PrismaPg {
  const connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await factory.connect();
    if (!('client' in adapter)) {
      throw new Error('@prisma/adapter-pg no longer keeps its pool in `client`: src/db/request-transaction.ts needs updating');
    }
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      queryRaw: (query) => adapter.queryRaw(query),
      executeRaw: (query) => adapter.executeRaw(query),
      executeScript: (script) => adapter.executeScript(script),
      getConnectionInfo: adapter.getConnectionInfo && (() => adapter.getConnectionInfo!()),
      dispose: () => adapter.dispose(),
      startTransaction: async (isolationLevel) => {
        const held = handOff.getStore();
        if (!held || held.state !== 'held') return adapter.startTransaction(isolationLevel);
        if (isolationLevel) throw new Error('A held request transaction has its own isolation level');
        return held.handTo(adapter);
      },
    };
  };
  return Object.assign(Object.create(factory) as PrismaPg, { connect });
}
