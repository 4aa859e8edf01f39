/**
 * Standard APIs that Node 20 lacks and that the libraries on the request path
 * look for at run time. Imported first by src/yoga.ts, for every gateway.
 */

/**
 * `Promise.withResolvers()` (ES2024, native from Node 22).
 *
 * PERF: without it, @whatwg-node/promise-helpers' `createDeferredPromise`
 * (Yoga's server adapter on every request, graphql-tools' executor on every
 * execution with a signal) returns `{ promise, get resolve(), get reject() }`.
 * V8, as in Node 20, gives each such getter an accessor pair in the old
 * generation, and its scope, the promise and everything its reactions reach
 * (the executor's results), then survives every young-generation collection
 * until the next full one. With this: 3.1 → 1.3 KB promoted per page request
 * (docs/adr/0097-young-garbage-of-the-executor.md, `npx tsx bench/promoted.ts`).
 */
export function withResolvers<T>(this: PromiseConstructor): PromiseWithResolversResult<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new this<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

/** What `Promise.withResolvers()` returns (lib.es2024.promise.d.ts's PromiseWithResolvers). */
export interface PromiseWithResolversResult<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

declare global {
  interface PromiseConstructor {
    /** ES2024; defined below where the runtime lacks it. */
    withResolvers<T>(): PromiseWithResolversResult<T>;
  }
}

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', { value: withResolvers, writable: true, configurable: true, enumerable: false });
}
