import { randomUUID } from 'node:crypto';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context';

/**
 * What the logs, the metrics and the traces say about one request, gathered
 * once: its id, its operation, its caller, its errors' codes and the
 * statements it sent. The request log (use-request-log.ts) and the metrics
 * (use-metrics.ts) read it when the response goes out.
 */
export interface RequestObservation {
  id: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  method: string;
  path: string;
  operationName?: string;
  operationType?: string;
  organizationId?: string;
  userId?: string;
  /** extensions.code of each error in the response. */
  errorCodes: string[];
  /** Statements sent to PostgreSQL on this request's behalf (counted by connection: src/db/statement-attribution.ts). */
  statements: number;
}

// PERF: keyed by the request, not an AsyncLocalStorage: on Node 20 one in use
// taxes every promise of the process (docs/adr/0094-statements-by-connection.md).
const byRequest = new WeakMap<Request, RequestObservation>();

export function observationOf(request: Request): RequestObservation | undefined {
  return byRequest.get(request);
}

/**
 * SECURITY: a client-chosen id ends up in logs; only a short token of safe
 * characters is kept, anything else is replaced by a generated id.
 */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Opens the observation of each request; the first plugin, so every later hook finds it. */
export function useRequestScope(): Plugin<Context> {
  return {
    instrumentation: {
      request({ request }, wrapped) {
        const observation: RequestObservation = {
          id: requestIdFrom(request),
          startedAt: performance.now(),
          method: request.method,
          // Set by onRequest, from the URL Yoga has parsed already (parsing it again was 0.5% of a request's CPU).
          path: '',
          errorCodes: [],
          statements: 0,
        };
        byRequest.set(request, observation);
        return wrapped();
      },
    },
    onRequest({ request, url }) {
      const observation = observationOf(request);
      if (observation) observation.path = url.pathname;
    },
    onExecute({ args }) {
      const observation = observationOf(args.contextValue.request);
      if (!observation) return;
      const operation = getOperationAST(args.document, args.operationName);
      observation.operationType = operation?.operation;
      observation.operationName = operation?.name?.value;
      const { viewer, platformOperator } = args.contextValue;
      observation.organizationId = viewer?.organizationId;
      observation.userId = viewer?.userId ?? platformOperator?.userId;
    },
    onResultProcess({ request, result }) {
      const observation = observationOf(request);
      if (!observation) return;
      for (const single of Array.isArray(result) ? result : [result]) {
        const errors = (single as { errors?: readonly { extensions?: Record<string, unknown> }[] }).errors;
        for (const error of errors ?? []) observation.errorCodes.push(String(error.extensions?.code ?? 'UNKNOWN'));
      }
    },
    onResponse({ request, response }) {
      const observation = observationOf(request);
      if (!observation) return;
      // A response Yoga made before the plugins' onRequest (a CORS preflight, GraphiQL's page).
      if (!observation.path) observation.path = new URL(request.url).pathname;
      response.headers.set('x-request-id', observation.id);
    },
  };
}
