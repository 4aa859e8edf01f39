import { getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Context, RequestInitialContext } from '../context';
import type { Database } from '../db/client';
import { RequestScope } from '../db/request-scope';

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
 * PERF: a page of projects with their owners costs 3 round trips in all: the
 * access check with BEGIN and the scope, the page, COMMIT
 * (docs/adr/0002-held-read-transaction.md). A query also reads one
 * consistent snapshot this way. Mutations commit field by field, as GraphQL
 * clients expect: each of their writes opens its own transaction.
 */
export function useRequestTransaction(db: Database): Plugin<YogaInitialContext & RequestInitialContext & Partial<Context>> {
  return {
    onParse() {
      return ({ result, extendContext, context }) => {
        if (!result || result instanceof Error) return;
        const operationType = getOperationAST(result, context.params?.operationName)?.operation;
        const extension: RequestInitialContext = { operationType, requestScope: new RequestScope(db, operationType, context.request?.signal) };
        extendContext(extension);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const scope = args.contextValue.requestScope;
      if (!scope?.held) return;
      setExecuteFn((executeArgs) => scope.execute(async () => executeFn(executeArgs)));
    },
    // Yoga's context is the request's server context, extended (graphql-yoga
    // handleParams, envelop extendContext): the scope put on it at parse time is here.
    async onResponse({ serverContext }) {
      await (serverContext as RequestInitialContext | undefined)?.requestScope?.release();
    },
  };
}
