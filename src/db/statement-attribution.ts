import type pg from 'pg';

/** Counts the statements sent on one request's behalf (the request log's `statements`). */
export interface StatementCounter {
  statements: number;
}

/**
 * Which request a statement serves, for the request log.
 *
 * PERF: without AsyncLocalStorage, which on Node 20 taxes every promise of the
 * process while one is in use (about 2% of a page's CPU in self time of its
 * hooks, docs/adr/0094-statements-by-connection.md). A statement is counted
 * for the request whose connection sends it:
 * - the request scope binds the connection it checks out (src/db/request-scope.ts);
 * - a transaction Prisma opens on the request's behalf is claimed by its scope
 *   statement, which is the request's own text (it carries the request id,
 *   src/db/tenant.ts): its connection counts for that request from there, its
 *   BEGIN included.
 * Either binding ends when the pool gets the connection back.
 */
export class StatementAttribution {
  readonly #connections = new WeakMap<pg.ClientBase, StatementCounter>();
  readonly #scopes = new Map<string, { counter: StatementCounter; pending: number }>();

  /** Counts `connection`'s statements for `counter` until it goes back to the pool. */
  bind(connection: pg.ClientBase, counter: StatementCounter | undefined): void {
    if (counter) this.#connections.set(connection, counter);
  }

  /**
   * A transaction whose first statement after BEGIN is `scopeStatement` serves
   * `counter`, until the returned function is called (once the transaction has
   * settled). Concurrent transactions of one request share the entry.
   */
  expect(scopeStatement: string, counter: StatementCounter): () => void {
    const entry = this.#scopes.get(scopeStatement);
    if (entry) entry.pending += 1;
    else this.#scopes.set(scopeStatement, { counter, pending: 1 });
    return () => {
      const current = this.#scopes.get(scopeStatement);
      if (current && --current.pending === 0) this.#scopes.delete(scopeStatement);
    };
  }

  /** One statement sent on `connection`: `query` is node-postgres' first argument (its text, or a config with `text`). */
  count(connection: pg.ClientBase, query: unknown): void {
    let counter = this.#connections.get(connection);
    if (!counter && this.#scopes.size > 0) {
      counter = this.#scopes.get(statementText(query))?.counter;
      if (!counter) return;
      this.#connections.set(connection, counter);
      counter.statements += 1; // the transaction's BEGIN, sent before it was claimed
    }
    if (counter) counter.statements += 1;
  }

  /** The pool has `connection` back: its next statements serve whoever checks it out next. */
  release(connection: pg.ClientBase): void {
    this.#connections.delete(connection);
  }
}

/** The text of node-postgres' first argument to `query()`. */
export function statementText(query: unknown): string {
  return typeof query === 'string' ? query : String((query as { text?: string } | null)?.text ?? '');
}
