import type { OperationTypeNode } from 'graphql';
import type pg from 'pg';
import type { Database } from './client';
import type { HeldTransaction } from './request-transaction';
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
    const connection = await this.db.pool.connect().catch((error: unknown) => Promise.reject(connectFailure(error, this.db.pool)));
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
    if (this.holds) {
      const held = this.db.holdTransaction(connection);
      this.#held = held;
      if (this.signal && !this.signal.aborted) {
        this.#onAbort = () => void held.cancel();
        this.signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    } else connection.release();
    // A setup entry may hold several statements (scopeStatement): count from the end, where each query is one.
    const end = results.length - (this.holds ? 0 : 1);
    return results.slice(end - texts.length, end).map((result) => result.rows);
  }

  /**
   * More statements in the transaction that open() holds, as one message (the
   * access check's second look, src/auth/access.ts): the rows of each. Only
   * while a transaction is held.
   */
  async continueWith(statements: readonly string[]): Promise<pg.QueryResultRow[][]> {
    const held = this.#held;
    if (!held || held.state !== 'held') throw new Error('RequestScope: no transaction is held');
    const result: pg.QueryResult | pg.QueryResult[] = await held.send(statements.join('; '));
    return (Array.isArray(result) ? result : [result]).map((r) => r.rows);
  }

  /**
   * Runs the operation in the held transaction and ends it: COMMIT when `fn`
   * resolves (not waited for: the transaction only read, and a failed COMMIT
   * destroys the connection), ROLLBACK when it throws.
   */
  async execute<R>(fn: () => Promise<R>): Promise<R> {
    const held = this.#held;
    if (!held) return fn();
    let result: R;
    try {
      result = await fn();
    } catch (error) {
      this.#forgetSignal();
      await held.end('ROLLBACK');
      throw error;
    }
    this.#forgetSignal();
    held.end('COMMIT').catch(() => undefined);
    return result;
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
