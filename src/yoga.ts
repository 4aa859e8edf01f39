import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { schema } from './schema/index';
import { createContextFactory, type Context, type ContextDependencies } from './context';
import { useInputErrors } from './plugins/use-input-errors';

export interface GatewayOptions extends ContextDependencies {
  /**
   * Serve GraphiQL at the GraphQL endpoint.
   * @default true
   */
  graphiql?: boolean;
  /**
   * Include the original error message and stack of unexpected errors in
   * responses. Never in production.
   * @default false
   */
  exposeErrorDetails?: boolean;
  /** Yoga's logger; `false` to silence it (tests). */
  logging?: boolean;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, Context>;

/**
 * The GraphQL gateway as a fetch handler: tests call `gateway.fetch(...)`
 * in-process, src/server.ts puts it behind node:http.
 */
export function createGateway(options: GatewayOptions): Gateway {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: createContextFactory(options),
    graphiql: options.graphiql ?? true,
    // SECURITY: unexpected errors reach the client as "Unexpected error." only.
    maskedErrors: { isDev: options.exposeErrorDetails ?? false },
    logging: options.logging ?? true,
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    plugins: [
      useInputErrors(),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          try {
            await options.db.pool.query('SELECT 1');
            return true;
          } catch {
            return false;
          }
        },
      }),
    ],
  });
}
