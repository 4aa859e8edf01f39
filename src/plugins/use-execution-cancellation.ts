import type { Plugin, YogaInitialContext } from 'graphql-yoga';

/**
 * The symbol under which Node's `AbortSignal.any()` keeps, on each source
 * signal, the composite signals to abort with it (lib/internal/abort_controller.js).
 * Read once from a native signal; undefined if a Node version stops doing so.
 */
const kDependantSignals: symbol | undefined = (() => {
  const probe = new AbortController().signal;
  AbortSignal.any([probe]);
  return Object.getOwnPropertySymbols(probe).find((symbol) => symbol.description === 'kDependantSignals');
})();

if (!kDependantSignals) {
  // Said once, at start-up: a Node internal (docs/patches.md) this file relies on is not where it was.
  console.warn(`tenantgate: Node ${process.version} keeps no kDependantSignals on an AbortSignal: AbortSignal.any([info.signal, …]) in a resolver will not abort when its client goes away (src/plugins/use-execution-cancellation.ts).`);
}

/**
 * The signal the executor and the resolvers (`info.signal`) get: an
 * `AbortSignal` to its users (`instanceof`, `aborted`, `reason`,
 * `throwIfAborted()`, `'abort'` events, `onabort`, `fetch(…, { signal })`),
 * aborted once, by `abort()`.
 *
 * PERF: not Node's own AbortSignal, and not the request's. Node 20 makes each
 * of its signals an EventTarget whose prototype it then changes, and such an
 * object survives V8's young-generation collections: every request's signal,
 * and through the executor's 'abort' listener its whole execution context,
 * went to the old generation (about 5 KB of the 7.7 KB a page request left
 * there; docs/adr/0097-execution-signal.md). The request's own signal over HTTP
 * is @whatwg-node/server's Proxy, whose `get` trap searches every property name,
 * and the executor reads the signal before every field (about 2% of a page's
 * CPU). This class is an EventTarget made with its prototype, so neither.
 * `AbortSignal.any([info.signal, …])` still aborts with it: what Node keeps on a
 * source signal for that is kept on a native signal made on demand.
 */
class ExecutionSignal extends EventTarget implements AbortSignal {
  /** AbortSignal.prototype's, reached through the prototype chain set below. */
  declare onabort: AbortSignal['onabort'];
  #aborted = false;
  #reason: unknown = undefined;
  #native: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.dispatchEvent(new Event('abort'));
    this.#native?.abort(reason);
  }

  /** The native signal that holds what `AbortSignal.any()` keeps on this one. */
  nativeSignal(): AbortSignal {
    this.#native ??= new AbortController();
    if (this.#aborted) this.#native.abort(this.#reason);
    return this.#native.signal;
  }
}
// Once, on the class: instances are made with this prototype chain (an instance whose prototype is set after it is made is what V8 keeps).
Object.setPrototypeOf(ExecutionSignal.prototype, AbortSignal.prototype);
if (kDependantSignals) {
  Object.defineProperty(ExecutionSignal.prototype, kDependantSignals, {
    get(this: ExecutionSignal) {
      return Reflect.get(this.nativeSignal(), kDependantSignals);
    },
    set(this: ExecutionSignal, value: unknown) {
      Reflect.set(this.nativeSignal(), kDependantSignals, value);
    },
  });
}

/**
 * A client that goes away stops its operation: no resolver starts after that.
 * What graphql-yoga's own `useExecutionCancellation` does, with an
 * ExecutionSignal (above) given to the executor instead of the request's.
 */
export function useExecutionCancellation(): Plugin<YogaInitialContext> {
  const signalOf = (request: Request | undefined): AbortSignal | undefined => {
    const source = request?.signal;
    if (!source) return undefined;
    if (source.aborted) return AbortSignal.abort(source.reason);
    const signal = new ExecutionSignal();
    source.addEventListener('abort', () => signal.abort(source.reason), { once: true });
    return signal;
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
