/**
 * Prisma's PrismaPromise, with `spec` as a data property instead of a getter.
 *
 * PERF: every operation of a PrismaClient (`findMany`, `$queryRaw`, …) returns a
 * PrismaPromise made by `client._createPrismaPromise`, an object literal with
 * `get spec() { return op }` (Prisma 7.10, src/runtime/core/request/
 * createPrismaPromise.ts). V8, as in Node 20, allocates the accessor pair of a
 * getter defined on an object straight into the old generation. Once the
 * operation is done, that dead pair stays there until the next full collection,
 * and until then every young-generation collection treats what it reaches as
 * alive: the getter's scope, which holds the operation's promise, which holds
 * its result, every row. Measured with `--trace-gc-nvp` (loops on one
 * connection, steady state):
 *
 * - a loop of `$queryRawUnsafe` of a page of 21 projects on a bare PrismaClient
 *   promoted about 2 MB per scavenge and paused 3.4–3.9 ms each time; the same
 *   requests through Prisma's internals without the PrismaPromise (or with a
 *   plain `{ then }` in its place) promoted 75 KB and paused 0.8 ms;
 * - an object literal `{ get spec() { return payload } }` in a loop keeps every
 *   payload through scavenges; `{ spec: payload }` or a method keeps none.
 *
 * The promoted rows then fill the old generation, whose full collections (a
 * concurrent marking that takes the second core from PostgreSQL) came every 3 s
 * in a loop of the gateway's page in process, each with a burst of slow requests.
 *
 * This factory behaves as Prisma's own, but for `spec`. It replaces the
 * instance's `_createPrismaPromise` (an internal; `installPlainPrismaPromises`
 * checks its shape first and leaves a client it does not recognize alone, and a
 * test fails when that happens). Prisma's interactive-transaction clients make
 * their own factory; the gateway's hot paths do not use them.
 */

export interface PrismaPromiseTransaction {
  kind: string;
  [key: string]: unknown;
}

type PrismaPromiseCallback = (transaction?: PrismaPromiseTransaction) => unknown;

interface PlainPrismaPromise<Spec> extends PromiseLike<unknown> {
  readonly spec: Spec;
  catch(onRejected?: (reason: unknown) => unknown): Promise<unknown>;
  finally(onFinally?: () => void): Promise<unknown>;
  requestTransaction(batchTransaction: PrismaPromiseTransaction): PromiseLike<unknown>;
  readonly [Symbol.toStringTag]: 'PrismaPromise';
}

type Thenable = Promise<unknown> & { requestTransaction?: (batchTransaction: PrismaPromiseTransaction) => PromiseLike<unknown> };

function valueToPromise(thing: unknown): Thenable {
  if (typeof (thing as { then?: unknown } | null | undefined)?.then === 'function') return thing as Thenable;
  return Promise.resolve(thing) as Thenable;
}

export function createPrismaPromiseFactory(transaction?: PrismaPromiseTransaction) {
  return function createPrismaPromise<Spec>(callback: PrismaPromiseCallback, op?: Spec): PlainPrismaPromise<Spec | undefined> {
    let promise: Thenable | undefined;
    const run = (callbackTransaction: PrismaPromiseTransaction | undefined = transaction): Thenable => {
      try {
        // A promise is not triggered twice once it has run…
        if (callbackTransaction === undefined || callbackTransaction.kind === 'itx') {
          return (promise ??= valueToPromise(callback(callbackTransaction)));
        }
        // …but a batch transaction may trigger it again.
        return valueToPromise(callback(callbackTransaction));
      } catch (error) {
        return Promise.reject(error) as Thenable;
      }
    };
    return {
      spec: op,
      then(onFulfilled, onRejected) {
        return run().then(onFulfilled, onRejected);
      },
      catch(onRejected) {
        return run().catch(onRejected);
      },
      finally(onFinally) {
        return run().finally(onFinally);
      },
      requestTransaction(batchTransaction) {
        const started = run(batchTransaction);
        return started.requestTransaction ? started.requestTransaction(batchTransaction) : started;
      },
      [Symbol.toStringTag]: 'PrismaPromise',
    };
  };
}

const PRISMA_PROMISE_KEYS = ['spec', 'then', 'catch', 'finally', 'requestTransaction'];

/**
 * Gives `client` the factory above in place of Prisma's. Returns false, and
 * changes nothing, when the client's `_createPrismaPromise` is not the one this
 * module copies (another Prisma version): a PrismaPromise whose `spec` is not a
 * getter, or one with other members.
 */
export function installPlainPrismaPromises(client: object): boolean {
  const internal = client as { _createPrismaPromise?: unknown };
  const original = internal._createPrismaPromise;
  if (typeof original !== 'function') return false;
  // Lazy: the callback runs only when the promise is awaited, which it is not here.
  const sample = (original as (callback: PrismaPromiseCallback, op?: unknown) => object)(() => {
    throw new Error('installPlainPrismaPromises: a sample PrismaPromise ran');
  }, {});
  const keys = Object.keys(sample);
  const descriptor = Object.getOwnPropertyDescriptor(sample, 'spec');
  const recognized =
    keys.length === PRISMA_PROMISE_KEYS.length &&
    PRISMA_PROMISE_KEYS.every((key) => keys.includes(key)) &&
    typeof descriptor?.get === 'function' &&
    (sample as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'PrismaPromise';
  if (!recognized) return false;
  internal._createPrismaPromise = createPrismaPromiseFactory();
  return true;
}
