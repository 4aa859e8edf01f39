import type { Plugin, YogaInitialContext } from 'graphql-yoga';

/**
 * A client that goes away stops its operation: no resolver starts after that.
 * What graphql-yoga's own `useExecutionCancellation` does, with a native
 * AbortSignal given to the executor instead of the request's.
 *
 * PERF: over HTTP the request's signal is @whatwg-node/server's
 * CustomAbortControllerSignal behind a Proxy whose `get` trap turns the property
 * name into a string and searches it, and the executor reads the signal before
 * every field it resolves (`throwIfAborted`, `aborted`): about 2% of the page's
 * CPU (`npm run bench -- --profile`). A native signal, aborted by one listener
 * on the request's, answers those reads from V8's fast path.
 */
export function useExecutionCancellation(): Plugin<YogaInitialContext> {
  const signalOf = (request: Request | undefined): AbortSignal | undefined => {
    const source = request?.signal;
    if (!source) return undefined;
    if (source.aborted) return AbortSignal.abort(source.reason);
    const controller = new AbortController();
    source.addEventListener('abort', () => controller.abort(source.reason), { once: true });
    return controller.signal;
  };
  return {
    onExecute({ args }) {
      // graphql-tools' executor takes `signal` among its arguments; graphql's ExecutionArgs type has no such field.
      Object.assign(args, { signal: signalOf(args.contextValue.request) });
    },
    onSubscribe({ args }) {
      Object.assign(args, { signal: signalOf(args.contextValue.request) });
    },
  };
}
