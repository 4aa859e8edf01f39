import { AsyncLocalStorage } from 'node:async_hooks';
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
  /** Statements this request sent to PostgreSQL (counted by the pool's onStatement). */
  statements: number;
}

const storage = new AsyncLocalStorage<RequestObservation>();
const byRequest = new WeakMap<Request, RequestObservation>();

/** The observation of the request whose code is running, if any (the pool counts statements with it). */
export function currentRequest(): RequestObservation | undefined {
  return storage.getStore();
}

export function observationOf(request: Request): RequestObservation | undefined {
  return byRequest.get(request);
}

/** Counts a statement against the running request: pass as createDatabase's onStatement. */
export function countStatement(): void {
  const observation = storage.getStore();
  if (observation) observation.statements += 1;
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

/** Opens the observation of each request; the first plugin, so every later hook runs inside it. */
export function useRequestScope(): Plugin<Context> {
  return {
    instrumentation: {
      request({ request }, wrapped) {
        const url = new URL(request.url);
        const observation: RequestObservation = {
          id: requestIdFrom(request),
          startedAt: performance.now(),
          method: request.method,
          path: url.pathname,
          errorCodes: [],
          statements: 0,
        };
        byRequest.set(request, observation);
        return storage.run(observation, wrapped);
      },
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
      if (observation) response.headers.set('x-request-id', observation.id);
    },
  };
}
