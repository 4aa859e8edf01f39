import { getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Context, RequestInitialContext } from '../context';
import type { Database } from '../db/client';
import { RequestScope } from '../db/request-scope';
import { observationOf } from '../ops/request-scope';

/**
 * Gives every request its transaction's owner, a RequestScope
 * (src/db/request-scope.ts), and ends that transaction on every path:
 *
 * - once the document is parsed, it notes the operation type and puts a scope
 *   on the context: the context's access check opens the transaction in it
 *   (held open for a query);
 * - a query runs in the scope's `execute()`, which ends the transaction when
 *   the operation has run (COMMIT) or thrown (ROLLBACK);
 * - when the response goes out, `release()` rolls back a transaction that is
 *   still held: a refused request, an operation another plugin never let run,
 *   a client that went away.
 *
 * PERF: a page of projects with their owners costs 2 round trips in all when
 * the member's access check is remembered: BEGIN, the scope and the access
 * version with the page, then COMMIT (3 otherwise: the access check first)
 * (docs/adr/0002-held-read-transaction.md, 0092). A query also reads one
 * consistent snapshot this way. Mutations commit field by field, as GraphQL
 * clients expect: each of their writes opens its own transaction.
 */
/** How often a query runs again because the access check it ran on was out of date (each time, a full check comes first). */
const MAX_RESTARTS = 3;

export function useRequestTransaction(
  db: Database,
  /** Yoga's context factory: a query whose remembered access check was out of date runs again in a context made anew. */
  makeContext: (initial: YogaInitialContext) => Promise<Partial<Context>>,
): Plugin<YogaInitialContext & RequestInitialContext & Partial<Context>> {
  return {
    onParse() {
      return ({ result, extendContext, context }) => {
        if (!result || result instanceof Error) return;
        const operationType = getOperationAST(result, context.params?.operationName)?.operation;
        const extension: RequestInitialContext = { operationType, requestScope: new RequestScope(db, operationType, context.request?.signal, context.request && observationOf(context.request)) };
        extendContext(extension);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const scope = args.contextValue.requestScope;
      if (!scope?.held) return;
      setExecuteFn((executeArgs) => {
        let restarts = 0;
        const restart = async (): Promise<Awaited<ReturnType<typeof executeFn>>> => {
          if (++restarts > MAX_RESTARTS) throw new Error('The access check kept changing while the query ran');
          const remade = await makeContext(executeArgs.contextValue);
          // A new object for the run: Pothos and DataLoader keep per-request caches by context object, filled on the
          // old access. The old object gets the new access too, for the plugins that read it when the response goes out.
          Object.assign(executeArgs.contextValue, remade);
          const contextValue = { ...executeArgs.contextValue, ...remade };
          return scope.execute(async () => executeFn({ ...executeArgs, contextValue }), restart);
        };
        return scope.execute(async () => executeFn(executeArgs), restart);
      });
    },
    // Yoga's context is the request's server context, extended (graphql-yoga
    // handleParams, envelop extendContext): the scope put on it at parse time is here.
    async onResponse({ serverContext }) {
      await (serverContext as RequestInitialContext | undefined)?.requestScope?.release();
    },
  };
}
