import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Context } from '../context';
import type { UsageRecorder } from '../usage/recorder';
import { operationCost } from './use-operation-limits';

/**
 * Counts each organization's usage into the recorder (src/usage/recorder.ts):
 * an API call per executed operation, its execution time (performance.now()
 * around execute) and the bytes of its response, for the request's
 * organization and user.
 *
 * Not counted: requests without an organization (anonymous introspection, a
 * platform operator outside one), requests refused before execution (bad token,
 * not a member, invalid document, QUOTA_EXCEEDED), and support sessions (the
 * platform's work, not the organization's).
 *
 * API calls: an operation counts ceil(cost / costPerApiCall) calls, at least
 * one (its cost: src/plugins/use-operation-limits.ts), so that 2,000 aliases
 * in one document are not one call.
 *
 * Bytes: the Content-Length that Yoga's fetch API sets on every regular JSON
 * response. A streamed response (SSE, multipart) has none; its body is passed
 * through a counter and each chunk is added as it goes out.
 */

interface Execution {
  organizationId: string;
  userId: string;
  operations: number;
  computeMs: number;
}

export function useUsage(recorder: UsageRecorder, { costPerApiCall = 1000 }: { costPerApiCall?: number } = {}): Plugin<Context & YogaInitialContext> {
  // Yoga's context carries the request, and onResponse gets the same object.
  const executions = new WeakMap<Request, Execution>();
  return {
    onExecute({ args }) {
      const { viewer, request } = args.contextValue;
      if (!viewer || viewer.support) return undefined;
      const started = performance.now();
      return {
        onExecuteDone() {
          let execution = executions.get(request);
          if (!execution) executions.set(request, (execution = { organizationId: viewer.organizationId, userId: viewer.userId, operations: 0, computeMs: 0 }));
          execution.operations += Math.max(1, Math.ceil((operationCost(request) ?? 0) / costPerApiCall));
          execution.computeMs += performance.now() - started;
        },
      };
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const execution = executions.get(request);
      if (!execution) return;
      executions.delete(request);
      const { organizationId, userId } = execution;
      const length = response.headers.get('content-length');
      recorder.record({ organizationId, userId, apiCalls: execution.operations, computeMs: execution.computeMs, bandwidthBytes: Number(length ?? 0) });
      if (length !== null || !response.body) return;
      const counter = new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          recorder.record({ organizationId, userId, apiCalls: 0, computeMs: 0, bandwidthBytes: chunk.byteLength });
          controller.enqueue(chunk);
        },
      });
      setResponse(new fetchAPI.Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers }));
    },
    // gateway.dispose() (src/server.ts on shutdown) writes what is still pending.
    onDispose: () => recorder.close(),
  };
}
