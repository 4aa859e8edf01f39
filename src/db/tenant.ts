import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { CompiledStatement, HeldTransaction } from './request-transaction';
import type { StatementAttribution, StatementCounter } from './statement-attribution';

/**
 * The tenant client: what a resolver reaches tenant data through
 * (`ctx.tenantDb()`). Every operation on it runs in a transaction that has set
 * the organization, so PostgreSQL's row-level security policies
 * (prisma/migrations) scope it. Two implementations, one interface
 * (`TenantClient`, below): the scoped client of mutations, which opens its own
 * transactions, and the held client of queries, whose operations all run in
 * the request's transaction (src/db/request-scope.ts owns it).
 */

export interface TenantScope {
  /** The active organization, or null for "no tenant": every tenant table then reads empty. */
  organizationId: string | null;
  /** The user of the request, when there is one (read by policies through app.current_user_id()). */
  userId?: string | null;
  /** The user's role in the organization, once the membership is checked (app.current_member_role()). */
  role?: 'OWNER' | 'ADMIN' | 'MEMBER' | null;
  /** The user's department and its ancestors (app.current_department_path()). */
  departmentPath?: readonly string[];
  /** Who acts, for the events and audit entries the triggers record (app.request_meta). */
  meta?: RequestMeta;
}

/** The request's actor details, read by app.record_event() (migration 20261204160100_events). */
export interface RequestMeta {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  /** A platform operator in a support session. */
  support?: boolean;
}

/**
 * `meta` as a SET LOCAL literal. SECURITY: the user agent and request id come
 * from the client: bounded, control characters dropped, quotes doubled (the
 * value is one standard-conforming string literal of JSON).
 */
function metaLiteral(meta: RequestMeta): string {
  // Lone surrogates too: jsonb refuses their escapes.
  const clean = (value: string | null | undefined, max: number) =>
    value ? value.slice(0, max).replace(/[\u0000-\u001f\u007f\ud800-\udfff]/g, '') : undefined;
  const json = JSON.stringify({ ip: clean(meta.ip, 64), userAgent: clean(meta.userAgent, 512), requestId: clean(meta.requestId, 128), support: meta.support || undefined });
  return `'${json.replace(/'/g, "''")}'`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLES = new Set(['OWNER', 'ADMIN', 'MEMBER']);

/**
 * The statement that scopes a transaction.
 *
 * SET LOCAL rather than set_config(): Citus forwards SET LOCAL to its workers and
 * not set_config(), so this survives a move to distributed PostgreSQL. SET takes
 * no bind parameters, so the values are interpolated; SECURITY: they are
 * validated first (UUIDs, a role name), which leaves no room for injection. All
 * settings go in one simple-protocol message: one round trip.
 */
export function scopeStatement(scope: TenantScope): string {
  const org = scope.organizationId ?? '';
  const user = scope.userId ?? '';
  const role = scope.role ?? '';
  const path = scope.departmentPath ?? [];
  for (const [name, value] of [['organizationId', org], ['userId', user], ...path.map((id) => ['departmentPath', id])]) {
    if (value !== '' && !UUID.test(value)) throw new Error(`Tenant scope: ${name} must be a UUID, got ${JSON.stringify(value)}`);
  }
  if (role !== '' && !ROLES.has(role)) throw new Error(`Tenant scope: role must be one of ${[...ROLES].join(', ')}, got ${JSON.stringify(role)}`);
  return [
    `SET LOCAL app.current_org_id = '${org}'`,
    `SET LOCAL app.current_user_id = '${user}'`,
    `SET LOCAL app.current_member_role = '${role}'`,
    `SET LOCAL app.current_department_path = '${path.join(',')}'`,
    ...(scope.meta ? [`SET LOCAL app.request_meta = ${metaLiteral(scope.meta)}`] : []),
  ].join('; ');
}

type TransactionOptions = Parameters<PrismaClient['$transaction']>[1];

/** The model delegates, by their client key (`project`, `organizationDomain`, …). */
type ModelKey = Uncapitalize<Prisma.ModelName>;
type TenantModels = Pick<Prisma.TransactionClient, ModelKey>;

/** Every model's client key, from the generated client: a new model is covered without a change here. */
const MODEL_KEYS: readonly ModelKey[] = Object.values(Prisma.ModelName).map(
  (name): ModelKey => `${name[0].toLowerCase()}${name.slice(1)}` as ModelKey,
);

/**
 * What a resolver may call on the request's tenant client, and what joins what:
 *
 * - **Model delegates and raw SQL** (`$queryRaw`, `$executeRaw` and their Unsafe
 *   variants): each operation is scoped to the organization. On the scoped
 *   client (mutations) an operation on its own is atomic by itself: a batch
 *   transaction `BEGIN; SET LOCAL …; <operation>; COMMIT`. On the held client
 *   (queries) it runs in the request's read transaction.
 * - **`$transaction(fn)`** runs `fn(tx)` in ONE scoped transaction and passes
 *   it explicitly: operations on `tx` are atomic together (an error rolls back
 *   all of them); operations on the outer client are NOT in it. `tx` is a
 *   TenantClient too: a nested `tx.$transaction(…)` joins the outer one (there
 *   are no savepoints), so a helper that takes a TenantClient and opens a
 *   transaction works inside another. On the held client, `tx` is the client
 *   itself and the transaction is the request's (read only).
 * - **`$transaction([…])`**: the operations in order, in one transaction, atomic
 *   (as `$transactionOnDemand`: the array's operations are the client's own).
 * - **`$transactionOnDemand(fn)`**: every operation `fn` issues on this client
 *   shares one transaction, opened by the first one (none if `fn` reads
 *   nothing), committed when `fn` resolves, rolled back when it throws. On the
 *   held client it is the request's transaction, which the request's scope
 *   ends, not this call.
 * - With no organization in its scope, the setting is empty and every tenant
 *   table reads empty: it fails closed.
 */
export interface TenantClient extends TenantModels, Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw' | '$queryRawUnsafe' | '$executeRawUnsafe'> {
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(operations: [...P], options?: TransactionOptions): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  $transaction<R>(fn: (tx: TenantClient) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $transactionOnDemand<R>(fn: () => Promise<R>, options?: TransactionOptions): Promise<R>;
  /**
   * Resolves at once: the client is connected. Present because Pothos'
   * prisma plugin recognizes a client by it (its `PrismaClient` type).
   */
  $connect(): Promise<void>;
  /**
   * Whether `$readRows` runs compiled statements: on the held client (a query's
   * read transaction), unless DATABASE_COMPILED_READS is off.
   */
  readonly $compiledReads: boolean;
  /**
   * Runs a statement the gateway wrote (a model operation compiled by
   * src/tenancy/compiled-read.ts, whose `findMany` / `findOne` are the callers;
   * a shared page's keys, src/tenancy/shareable.ts) in the request's read
   * transaction, and resolves with its rows as arrays; null on a client that
   * does not run them (the caller then runs the model's operation). SECURITY:
   * the held transaction is scoped like every other statement of the request:
   * RLS filters the statement's every table.
   */
  $readRows(statement: CompiledStatement): Promise<unknown[][]> | null;
}

/**
 * The array form of `$transaction`: in order, as Prisma's own does. Each
 * PrismaPromise is lazy: awaiting it here runs it inside the open transaction.
 */
async function inOrder(operations: readonly PromiseLike<unknown>[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const operation of operations) results.push(await operation);
  return results;
}

/** Runs one intercepted operation on the caller's open transaction instead. */
function runOn(tx: Prisma.TransactionClient, model: string | undefined, operation: string, args: unknown): Promise<unknown> {
  const target: Record<string, unknown> = model ? Reflect.get(tx, `${model[0].toLowerCase()}${model.slice(1)}`) : Reflect.get(tx, operation) && tx;
  const method = Reflect.get(target, operation) as (...a: unknown[]) => Promise<unknown>;
  // Raw "Unsafe" operations take (sql, ...values); everything else takes one argument.
  return Array.isArray(args) ? method.apply(target, args) : method.call(target, args);
}

/** Defines each model's delegate as a getter on a tenant client class's prototype. */
function defineModels(prototype: object, delegate: (client: never, key: ModelKey) => unknown): void {
  for (const key of MODEL_KEYS) {
    Object.defineProperty(prototype, key, {
      get(this: never) {
        return delegate(this, key);
      },
      enumerable: true,
    });
  }
}

/**
 * A tenant client over a scoped interactive transaction of Prisma's: what
 * `$transaction(fn)` passes to `fn`. Its operations are the transaction's;
 * a nested `$transaction` joins it.
 */
class TransactionTenantClient implements TenantClient {
  constructor(readonly tx: Prisma.TransactionClient) {}

  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return this.tx.$queryRaw<T>(query, ...values);
  }
  $executeRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return this.tx.$executeRaw<T>(query, ...values);
  }
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return this.tx.$queryRawUnsafe<T>(query, ...values);
  }
  $executeRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return this.tx.$executeRawUnsafe<T>(query, ...values);
  }
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(operations: [...P]): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  $transaction<R>(fn: (tx: TenantClient) => Promise<R>): Promise<R>;
  $transaction(arg: ((tx: TenantClient) => Promise<unknown>) | Prisma.PrismaPromise<unknown>[]): Promise<unknown> {
    return typeof arg === 'function' ? arg(this) : inOrder(arg);
  }
  $transactionOnDemand<R>(fn: () => Promise<R>): Promise<R> {
    return fn();
  }
  async $connect(): Promise<void> {}
  readonly $compiledReads = false;
  $readRows(): null {
    return null;
  }
}
// The delegates are declared by the interface and defined from the generated
// client's model list (test/tenant-client.test.ts checks every one is there).
interface TransactionTenantClient extends TenantModels {}
defineModels(TransactionTenantClient.prototype, (client: TransactionTenantClient, key) => Reflect.get(client.tx, key));

export interface TenantClientOptions {
  /**
   * The request's read transaction, already open and scoped (src/auth/access.ts
   * opens it with the access check): every operation runs in it. Scoped to the
   * same organization as `scope`.
   */
  held?: HeldTransaction;
  /**
   * Counts the statements of the transactions this client opens for `counter`
   * (the request log's `statements`). Only for a scope whose statement is the
   * request's own text: one whose `meta` carries the request's id.
   */
  counted?: { attribution: StatementAttribution; counter: StatementCounter };
}

/** A tenant client is made per request (src/context.ts). */
export function createTenantClient(base: PrismaClient, scope: TenantScope, { held, counted }: TenantClientOptions = {}): TenantClient {
  if (held) return new HeldTenantClient(held);
  if (counted && !scope.meta?.requestId) throw new Error('Tenant client: counting statements needs a scope with meta.requestId');
  return scopedTenantClient(base, scope, counted);
}

/**
 * The tenant client that opens and scopes its own transactions.
 *
 * `$transactionOnDemand` is the one method that routes this client's own
 * operations into a transaction (while `fn` runs, "the transaction this client
 * has open" is state of the client). PERF: that is why there is no
 * AsyncLocalStorage here: on Node 20 every AsyncLocalStorage in use taxes every
 * promise of the process. `$transaction(fn)` passes its transaction to `fn`
 * instead, so two concurrent callbacks never share one by accident.
 */
function scopedTenantClient(base: PrismaClient, scope: TenantScope, counted: TenantClientOptions['counted']): TenantClient {
  const setScope = scopeStatement(scope);
  /** Opens a Prisma transaction with `open`, its statements counted for the request (the transaction is claimed by `setScope`). */
  function counting<T>(open: () => Promise<T>): Promise<T> {
    if (!counted) return open();
    const forget = counted.attribution.expect(setScope, counted.counter);
    const settled = open();
    settled.then(forget, forget);
    return settled;
  }
  /** The open on-demand transaction (opening it first), while `$transactionOnDemand`'s callback runs. */
  let onDemand: (() => Promise<Prisma.TransactionClient>) | null = null;

  function interactive<R>(fn: (tx: TenantClient) => Promise<R>, options?: TransactionOptions): Promise<R> {
    // Inside $transactionOnDemand, a $transaction joins it (Prisma has no nested transactions).
    if (onDemand) return onDemand().then((tx) => fn(new TransactionTenantClient(tx)));
    return counting(() =>
      base.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(setScope);
        return fn(new TransactionTenantClient(tx));
      }, options),
    );
  }

  async function transactionOnDemand<R>(fn: () => Promise<R>, options?: TransactionOptions): Promise<R> {
    if (onDemand) return fn();
    let release!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      release = (error) => (error === undefined ? resolve() : reject(error));
    });
    let opened: Promise<Prisma.TransactionClient> | undefined;
    let settled: Promise<unknown> | undefined;
    const openOnce = () =>
      (opened ??= new Promise<Prisma.TransactionClient>((resolve, reject) => {
        const start = () =>
          counting(() =>
            base.$transaction(async (tx) => {
              await tx.$executeRawUnsafe(setScope);
              resolve(tx);
              // Held open until `fn` has finished with it.
              await done;
            }, options),
          );
        settled = start().catch((error: unknown) => {
          reject(error);
          throw error;
        });
      }));
    let result: R;
    onDemand = openOnce;
    try {
      result = await fn();
    } catch (error) {
      release(error);
      await settled?.catch(() => undefined);
      throw error;
    } finally {
      onDemand = null;
    }
    release();
    await settled;
    return result;
  }

  const extended = base.$extends({
    name: 'tenantgate:tenant-scope',
    query: {
      $allOperations({ model, operation, args, query }) {
        if (onDemand) return onDemand().then((tx) => runOn(tx, model, operation, args));
        return counting(() => base.$transaction([base.$executeRawUnsafe(setScope), query(args)])).then((results) => results[1]);
      },
    },
  });
  return new ScopedTenantClient(extended, interactive, transactionOnDemand);
}

/** What a scoped client's raw operations and delegates come from: the `$extends` client, whose every operation the scope hook runs. */
type Extended = Pick<PrismaClient, '$queryRaw' | '$executeRaw' | '$queryRawUnsafe' | '$executeRawUnsafe'>;

/** The scoped client's surface (see scopedTenantClient): its delegates are the extended client's. */
class ScopedTenantClient implements TenantClient {
  constructor(
    readonly extended: Extended,
    private readonly interactive: <R>(fn: (tx: TenantClient) => Promise<R>, options?: TransactionOptions) => Promise<R>,
    readonly $transactionOnDemand: <R>(fn: () => Promise<R>, options?: TransactionOptions) => Promise<R>,
  ) {}

  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return this.extended.$queryRaw<T>(query, ...values);
  }
  $executeRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return this.extended.$executeRaw<T>(query, ...values);
  }
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return this.extended.$queryRawUnsafe<T>(query, ...values);
  }
  $executeRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return this.extended.$executeRawUnsafe<T>(query, ...values);
  }
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(operations: [...P], options?: TransactionOptions): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  $transaction<R>(fn: (tx: TenantClient) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $transaction(arg: ((tx: TenantClient) => Promise<unknown>) | Prisma.PrismaPromise<unknown>[], options?: TransactionOptions): Promise<unknown> {
    if (typeof arg === 'function') return this.interactive(arg, options);
    // The array's operations are this client's own: they join while it runs.
    return this.$transactionOnDemand(() => inOrder(arg), options);
  }
  async $connect(): Promise<void> {}
  readonly $compiledReads = false;
  $readRows(): null {
    return null;
  }
}
interface ScopedTenantClient extends TenantModels {}
defineModels(ScopedTenantClient.prototype, (client: ScopedTenantClient, key) => Reflect.get(client.extended, key));

/**
 * A PrismaPromise that runs its operation inside the held transaction when it
 * is first awaited (`held.run()`), so one a request starts late is refused and
 * none is in flight when the transaction ends.
 */
class HeldOperation<T> implements Prisma.PrismaPromise<T> {
  #running: Promise<T> | undefined;
  readonly [Symbol.toStringTag] = 'PrismaPromise' as const;

  constructor(
    private readonly held: HeldTransaction,
    private readonly operation: PromiseLike<T>,
  ) {}

  #start(): Promise<T> {
    return (this.#running ??= this.held.run(async () => this.operation));
  }
  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.#start().then(onFulfilled, onRejected);
  }
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#start().catch(onRejected);
  }
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#start().finally(onFinally);
  }
}

/**
 * The tenant client of a held transaction (a query's): every operation, model
 * methods and raw SQL, runs in the held transaction on its bound client
 * (already scoped: no SET LOCAL here), entering through `held.run()` when it is
 * awaited. `$transaction` joins it; `$transactionOnDemand` runs in it; neither
 * ends it (the request's scope does). What a resolver should not reach
 * (`$extends`, `$connect`, the client's internals) it does not have.
 *
 * PERF: a class, so its methods and model getters live on the prototype and a
 * request allocates the instance and the delegates it uses, nothing more: a
 * per-request `$extends` builds composite proxies whose closures V8 puts
 * straight into the old generation (docs/adr/0004-young-generation-garbage.md).
 */
class HeldTenantClient implements TenantClient {
  #delegates: Map<ModelKey, object> | undefined;

  constructor(readonly held: HeldTransaction) {}

  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return new HeldOperation(this.held, this.held.prisma.$queryRaw<T>(query, ...values));
  }
  $executeRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return new HeldOperation(this.held, this.held.prisma.$executeRaw<T>(query, ...values));
  }
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return new HeldOperation(this.held, this.held.prisma.$queryRawUnsafe<T>(query, ...values));
  }
  $executeRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return new HeldOperation(this.held, this.held.prisma.$executeRawUnsafe<T>(query, ...values));
  }
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(operations: [...P]): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  $transaction<R>(fn: (tx: TenantClient) => Promise<R>): Promise<R>;
  $transaction(arg: ((tx: TenantClient) => Promise<unknown>) | Prisma.PrismaPromise<unknown>[]): Promise<unknown> {
    return typeof arg === 'function' ? this.held.run(() => arg(this)) : this.held.run(() => inOrder(arg));
  }
  $transactionOnDemand<R>(fn: () => Promise<R>): Promise<R> {
    return this.held.run(fn);
  }
  async $connect(): Promise<void> {}
  get $compiledReads(): boolean {
    return this.held.compiledReads;
  }
  $readRows(statement: CompiledStatement): Promise<unknown[][]> | null {
    return this.held.compiledReads ? this.held.run(() => this.held.read(statement)) : null;
  }

  /** A model's delegate whose every method returns a HeldOperation. `$parent` and the like would hand out the bound client: refused. */
  delegate(key: ModelKey): object {
    this.#delegates ??= new Map();
    let delegate = this.#delegates.get(key);
    if (!delegate) {
      const held = this.held;
      const target: object = Reflect.get(held.prisma, key);
      delegate = new Proxy(target, {
        get(model, name) {
          if (typeof name === 'string' && name.startsWith('$') && name !== '$name') return undefined;
          const value: unknown = Reflect.get(model, name);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => new HeldOperation(held, Reflect.apply(value, model, args) as PromiseLike<unknown>);
        },
      });
      this.#delegates.set(key, delegate);
    }
    return delegate;
  }
}
// The delegates are declared by the interface and defined from the generated
// client's model list (test/tenant-client.test.ts checks every one is there).
interface HeldTenantClient extends TenantModels {}
defineModels(HeldTenantClient.prototype, (client: HeldTenantClient, key) => client.delegate(key));
