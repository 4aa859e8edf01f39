import { getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { heldTransactionOf, type Context, type RequestInitialContext } from '../context';

/**
 * Runs each query operation in ONE transaction of the request's tenant client:
 * every read of the request (resolvers, DataLoader batches, Pothos' queries:
 * they join through the tenant client) in one scoped transaction, then COMMIT.
 *
 * PERF: the transaction is the one the access check opened (src/context.ts):
 * `BEGIN READ ONLY; SET LOCAL …; SELECT * FROM app.request_access(…)` in one
 * message, after which Prisma runs the reads in it
 * (src/db/request-transaction.ts). A page of projects with their owners then
 * costs 3 round trips in all: that message, the page, COMMIT. Without it every
 * Prisma operation would be a batch transaction of its own (BEGIN, SET LOCAL,
 * the query, COMMIT). Measured in `npm run bench` and written up in the
 * README. A query also reads one consistent snapshot this way.
 *
 * To know that an operation is a query before the context is built, the plugin
 * notes the operation type on the initial context once the document is parsed.
 *
 * Mutations are left alone: each of their writes (or the transaction a quota
 * check opens) commits on its own, so a failure in one mutation field does not
 * undo another, as GraphQL clients expect. Anonymous requests read nothing.
 */
export function useRequestTransaction(): Plugin<Context> {
  return {
    onParse() {
      return ({ result, extendContext, context }) => {
        if (!result || result instanceof Error) return;
        const { params } = context as unknown as YogaInitialContext;
        const extension: RequestInitialContext = { operationType: getOperationAST(result, params?.operationName)?.operation };
        extendContext(extension as Partial<Context>);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const context = args.contextValue as Context & RequestInitialContext;
      if (!context.viewer) return;
      // Noted once, after parsing: the same answer that decided whether the context held a transaction.
      if (context.operationType !== 'query') return;
      // The transaction only read: the response need not wait for its COMMIT.
      setExecuteFn((executeArgs) => context.tenantDb().$transactionOnDemand(async () => executeFn(executeArgs), { commitInBackground: true }));
    },
    // A safety net: a request whose context was built but whose operation never
    // ran (another plugin refused it) must not keep its connection. Not awaited:
    // the response is sent after the onResponse hooks, and ending a transaction
    // that only read cannot change it (a failure destroys the connection).
    onResponse({ request }) {
      heldTransactionOf(request)?.end('ROLLBACK').catch(() => undefined);
    },
  };
}
