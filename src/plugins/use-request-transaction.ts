import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context';

/**
 * Runs each query operation in ONE transaction of the request's tenant client:
 * BEGIN, SET LOCAL once, every read of the request (resolvers, DataLoader
 * batches, Pothos' queries: they join through the tenant client), COMMIT. The
 * transaction opens with the first read, so a query that reads nothing (e.g.
 * `viewer { role }`, answered from the context) costs no round trip.
 *
 * PERF: without it every Prisma operation is a batch transaction of its own
 * (BEGIN, SET LOCAL, the query, COMMIT); a page of projects with their owners
 * then costs 8 round trips after the access check, with it 5. Measured in
 * `npm run bench` (the transaction-mode table) and written up in the README.
 * A query also reads one consistent snapshot this way.
 *
 * Mutations are left alone: each of their writes (or the transaction a quota
 * check opens) commits on its own, so a failure in one mutation field does not
 * undo another, as GraphQL clients expect. Anonymous requests read nothing.
 */
export function useRequestTransaction(): Plugin<Context> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const context = args.contextValue as Context;
      if (!context.viewer) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      setExecuteFn((executeArgs) => context.tenantDb().$transactionOnDemand(async () => executeFn(executeArgs)));
    },
  };
}
