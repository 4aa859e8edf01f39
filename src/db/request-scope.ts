import type { OperationTypeNode } from 'graphql';
import type pg from 'pg';
import type { Database } from './client';
import type { CompiledStatement, HeldTransaction } from './request-transaction';
import type { StatementCounter } from './statement-attribution';
import { connectFailure } from './database-errors';
import { sendMessage, sendQuery } from './send-query';

/**
 * The one owner of a request's database transaction.
 *
 * src/plugins/use-request-transaction.ts makes one per request once the
 * document is parsed and carries it on the context (`requestScope`). The
 * access check opens the transaction through `open()`; the plugin runs the
 * operation through `execute()`, which ends it, and calls `release()` when the
 * response goes out, which ends whatever is still open. Nothing else begins,
 * commits or rolls back a request's transaction, so every path (success, a
 * GraphQL error, a refused request, a thrown exception, a client that went
 * away) ends it in `HeldTransaction.end()`, once.
 *
 * - A query holds its transaction: `BEGIN READ ONLY; SET LOCAL …; <access
 *   check>` stays open and the request's reads run in it
 *   (docs/architecture.md, "The data path").
 * - Any other operation commits the access check's transaction in the same
 *   message and gives the connection back at once; its writes open
 *   transactions of their own through the tenant client.
 */
export class RequestScope {
  #held: HeldTransaction | null = null;
  #onAbort: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    /** The parsed operation's type; undefined when it is not known (the scope then holds nothing). */
    readonly operationType: OperationTypeNode | undefined,
    /**
     * The request's signal: aborted when the client goes away. The statement the
     * held transaction is running then is cancelled (src/db/cancel.ts), so the
     * connection comes back within a round trip instead of when the statement
     * would have ended (ADR 0034).
     */
    private readonly signal?: AbortSignal,
    /** What counts the request's statements (its observation); the connections this scope checks out count for it. */
    private readonly counter?: StatementCounter,
  ) {}

  /** A query's reads run in the transaction its access check opens (unless the database has held reads off). */
  get holds(): boolean {
    return this.operationType === 'query' && this.db.heldReads;
  }

  /** The held transaction, while there is one. */
  get held(): HeldTransaction | null {
    return this.#held;
  }

  /**
   * Sends `BEGIN READ ONLY; <setup…>; <query>` as ONE message and returns the
   * rows of `query`, which is built with the connection's `escapeLiteral`
   * (SECURITY: the simple protocol takes no bind parameters). For a query operation the transaction stays open (held);
   * otherwise `COMMIT` ends the message. A failure rolls back (or destroys the
   * connection) before it is rethrown.
   */
  async open(setup: readonly string[], query: (literal: (value: string) => string) => string): Promise<pg.QueryResultRow[]> {
    const [rows] = await this.openWith(setup, (literal) => [query(literal)]);
    return rows;
  }

  /** open() with several queries after the setup, in the same message: the rows of each (one statement per query). */
  async openWith(setup: readonly string[], queries: (literal: (value: string) => string) => readonly string[]): Promise<pg.QueryResultRow[][]> {
    if (this.#held) throw new Error('RequestScope: the request has a transaction already');
    const connection = await this.#connect();
    const texts = queries((value) => connection.escapeLiteral(value));
    const statements = this.holds ? ['BEGIN READ ONLY', ...setup, ...texts] : ['BEGIN READ ONLY', ...setup, ...texts, 'COMMIT'];
    let results: pg.QueryResult[];
    try {
      results = await sendMessage(connection, statements);
    } catch (error) {
      // A failed statement leaves the message's transaction open and aborted.
      const rolledBack = await sendQuery(connection, 'ROLLBACK').then(() => true, () => false);
      connection.release(rolledBack ? undefined : true);
      throw error;
    }
    if (this.holds) this.#hold(this.db.holdTransaction(connection));
    else connection.release();
    // A setup entry may hold several statements (scopeStatement): count from the end, where each query is one.
    const end = results.length - (this.holds ? 0 : 1);
    return results.slice(end - texts.length, end).map((result) => result.rows);
  }

  /**
   * Holds a query's transaction on a connection without writing anything yet:
   * `BEGIN READ ONLY; <setup…>` (one simple-protocol message) and `check` (a
   * prepared statement, with its values) are written together with the first statement of
   * the operation (one round trip for all), or when the result is confirmed if
   * the operation sends none. For a remembered access check
   * (src/auth/access.ts): the request goes on with what it remembers, and
   * `confirms` judges the check's answer. If it does not confirm, nothing read
   * under that scope reaches the operation (its statements fail with
   * UnconfirmedScopeError) and `execute()` runs the operation again after
   * `restart`. Only for a query (`holds`).
   */
  async openRemembered(setup: readonly string[], check: CompiledStatement, confirms: (rows: pg.QueryResultRow[]) => boolean): Promise<void> {
    if (this.#held) throw new Error('RequestScope: the request has a transaction already');
    if (!this.holds) throw new Error('RequestScope: only a query holds its transaction');
    const connection = await this.#connect();
    this.#hold(this.db.holdTransaction(connection, { text: ['BEGIN READ ONLY', ...setup].join('; '), check, confirms }));
  }

  /**
   * Whether the transaction's scope is confirmed (see openRemembered): true
   * when it was opened by open() or openWith(), or when nothing is held. When
   * it is not, the transaction is rolled back, so the request can open another
   * (the context does, before it refuses a request on what it remembered).
   */
  async confirmed(): Promise<boolean> {
    const held = this.#held;
    if (held?.state !== 'held' || (await held.confirm())) return true;
    this.#forgetSignal();
    await held.end('ROLLBACK');
    this.#held = null;
    return false;
  }

  async #connect(): Promise<pg.PoolClient> {
    const connection = await this.db.pool.connect().catch((error: unknown) => Promise.reject(connectFailure(error, this.db.pool)));
    this.db.attribution.bind(connection, this.counter);
    return connection;
  }

  #hold(held: HeldTransaction): void {
    this.#held = held;
    if (this.signal && !this.signal.aborted) {
      this.#onAbort = () => void held.cancel();
      this.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * Runs the operation in the held transaction and ends it: COMMIT when `fn`
   * resolves (not waited for: the transaction only read; HeldTransaction.end
   * says how the connection goes back), ROLLBACK when it throws.
   *
   * Nothing `fn` produced leaves before its scope is confirmed (openRemembered).
   * When it is not, the transaction is rolled back and `restart` runs: it makes
   * the request's context again (the full access check opens a new transaction
   * in this scope) and runs the operation again. Without `restart` the
   * operation fails.
   */
  async execute<R>(fn: () => Promise<R>, restart?: () => Promise<R>): Promise<R> {
    const held = this.#held;
    if (!held) return fn();
    let result: R;
    try {
      result = await fn();
    } catch (error) {
      const confirmed = await held.confirm().catch(() => true);
      this.#forgetSignal();
      await held.end('ROLLBACK');
      if (confirmed) throw error;
      return this.#restart(restart);
    }
    let confirmed: boolean;
    try {
      confirmed = await held.confirm();
    } catch (error) {
      this.#forgetSignal();
      await held.end('ROLLBACK');
      throw error;
    }
    this.#forgetSignal();
    if (!confirmed) {
      await held.end('ROLLBACK');
      return this.#restart(restart);
    }
    held.end('COMMIT').catch(() => undefined);
    return result;
  }

  #restart<R>(restart: (() => Promise<R>) | undefined): Promise<R> {
    this.#held = null;
    if (!restart) return Promise.reject(new Error("RequestScope: the request's remembered access check was out of date"));
    return restart();
  }

  #forgetSignal(): void {
    if (this.#onAbort) this.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = null;
  }

  /**
   * Ends a transaction that is still held (the operation never ran, or the
   * request was refused): ROLLBACK, awaited, so the connection is back before
   * the response. One already ending is not waited for.
   */
  async release(): Promise<void> {
    this.#forgetSignal();
    if (this.#held?.state === 'held') await this.#held.end('ROLLBACK');
  }
}
