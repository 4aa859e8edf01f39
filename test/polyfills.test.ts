import { createDeferredPromise } from '@whatwg-node/promise-helpers';
import '../src/yoga';
import { withResolvers } from '../src/polyfills';

/**
 * src/polyfills.ts: `Promise.withResolvers` behaves as ES2024's, and the
 * deferred promises of @whatwg-node/promise-helpers (Yoga's adapter, the
 * executor) come back with data properties, not getters (ADR 0097).
 */

it('gives Promise.withResolvers, as the standard does', async () => {
  expect(typeof Promise.withResolvers).toBe('function');
  const resolved = Promise.withResolvers<number>();
  resolved.resolve(42);
  await expect(resolved.promise).resolves.toBe(42);
  const rejected = Promise.withResolvers<number>();
  rejected.reject(new Error('no'));
  await expect(rejected.promise).rejects.toThrow('no');
  // Called on a subclass it makes that subclass's promise, as the native one does.
  class Tagged<T> extends Promise<T> {}
  expect(withResolvers.call(Tagged as PromiseConstructor).promise).toBeInstanceOf(Tagged);
  expect(Object.getOwnPropertyDescriptor(Promise, 'withResolvers')?.enumerable).toBe(false);
});

it('makes the deferred promises of the request path plain objects (no getters)', () => {
  const deferred = createDeferredPromise<void>();
  for (const key of ['resolve', 'reject'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(deferred, key);
    expect(descriptor?.get).toBeUndefined();
    expect(typeof descriptor?.value).toBe('function');
  }
  deferred.resolve();
});
