import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { HeldTransaction } from './request-transaction';

/**
 * The tenant client: a Prisma client extension that runs every operation inside
 * a transaction that has set the organization, so PostgreSQL's row-level
 * security policies (prisma/migrations) scope it.
 *
 * - An operation on its own runs as a batch transaction
 *   `BEGIN; SET LOCAL app.current_org_id = …; <operation>; COMMIT` (4 round trips).
 * - `$transaction(async (tx) => …)` and `$transaction([…])` open ONE interactive
 *   transaction, set the organization once, and run everything in it: a rollback
 *   rolls back everything (the published Prisma RLS example loses rollbacks here,
 *   because each operation escapes into a batch transaction of its own).
 * - `$transactionOnDemand(fn)` runs everything `fn` issues in one transaction: the
 *   request transaction of queries.
 * - Made on a held transaction (a query's, which its access check opened and
 *   scoped: src/db/request-transaction.ts), every operation runs in that one, on
 *   a PrismaClient bound to its connection, and `$transactionOnDemand` ends it.
 *   Once it has ended, the client refuses every operation.
 * - Raw SQL (`$queryRaw`, `$executeRaw` and the Unsafe variants) goes through the
 *   same path: it is scoped too.
 * - No organization means the setting is empty and the policies match no row:
 *   it fails closed.
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

export type OnDemandOptions = TransactionOptions & {
  /**
   * On a held (READ ONLY) transaction: resolve with `fn`'s result as soon as
   * COMMIT is sent, without waiting for it. PERF: the response of a query does
   * not wait a round trip for a COMMIT that cannot change what it read. Ignored
   * by a transaction the client opens itself, which may have written.
   */
  commitInBackground?: boolean;
};

/**
 * The array form of `$transaction`: in order, as Prisma's own does. Each
 * PrismaPromise is lazy: awaiting it here runs it inside the open transaction.
 */
async function inOrder(operations: Prisma.PrismaPromise<unknown>[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const operation of operations) results.push(await operation);
  return results;
}

/** Runs one intercepted operation on the caller's open transaction instead. */
function runOn(tx: Prisma.TransactionClient, model: string | undefined, operation: string, args: unknown): Promise<unknown> {
  const target = (model ? (tx as never)[`${model[0].toLowerCase()}${model.slice(1)}`] : (tx as unknown)) as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >;
  // Raw "Unsafe" operations take (sql, ...values); everything else takes one argument.
  return Array.isArray(args) ? target[operation](...args) : target[operation](args);
}

export interface TenantClientOptions {
  /**
   * The request's transaction, already open and scoped (src/context.ts opens it
   * with the access check): `$transactionOnDemand` runs in it instead of opening
   * one. Scoped to the same organization as `scope`.
   */
  held?: HeldTransaction;
}

/**
 * A tenant client is made per request (src/context.ts), so "the transaction this
 * client has open" is plain state of the client. PERF: that is why there is no
 * AsyncLocalStorage here: on Node 20 every AsyncLocalStorage in use taxes every
 * promise of the process (one per client made a long-running gateway slower by
 * the hour, found by the benchmark). While a transaction is open, every
 * operation issued on the client runs in it; a request's operations belong
 * together, and GraphQL runs mutation fields one after the other. (Two
 * `$transaction` callbacks of one client running at the same time would share
 * that state: use the callback's `tx` there. Every operation stays scoped either
 * way; only the outer client's would miss the transaction.)
 */
export function createTenantClient(base: PrismaClient, scope: TenantScope, { held }: TenantClientOptions = {}) {
  return held ? heldTenantClient(held) : scopedTenantClient(base, scope);
}

/** The tenant client that opens and scopes its own transactions. */
function scopedTenantClient(base: PrismaClient, scope: TenantScope) {
  const setScope = scopeStatement(scope);
  /** The open transaction's client (opening it first, for $transactionOnDemand), while there is one. */
  let open: (() => Promise<Prisma.TransactionClient>) | null = null;

  /** Runs `fn` with `tx` as this client's open transaction. */
  async function inside<R>(tx: () => Promise<Prisma.TransactionClient>, fn: () => Promise<R>): Promise<R> {
    open = tx;
    try {
      return await fn();
    } finally {
      open = null;
    }
  }

  function interactive<R>(fn: (tx: Prisma.TransactionClient) => Promise<R>, options?: TransactionOptions): Promise<R> {
    // Prisma has no nested transactions: an inner one joins the outer.
    if (open) return open().then(fn);
    return base.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(setScope);
      const ready = Promise.resolve(tx);
      return inside(() => ready, () => fn(tx));
    }, options);
  }

  /**
   * Runs `fn` so that every operation it issues on this client shares ONE
   * transaction: the held one when the client has it, else one opened by the
   * first operation (a callback that touches no data then costs no round trip).
   * Commits when `fn` resolves, rolls back when it throws. The request
   * transaction of queries (src/plugins/use-request-transaction.ts).
   */
  async function transactionOnDemand<R>(fn: () => Promise<R>, onDemand?: OnDemandOptions): Promise<R> {
    if (open) return fn();
    const { commitInBackground: _, ...options } = onDemand ?? {};
    let release!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      release = (error) => (error === undefined ? resolve() : reject(error));
    });
    let opened: Promise<Prisma.TransactionClient> | undefined;
    let settled: Promise<unknown> | undefined;
    const openOnce = () =>
      (opened ??= new Promise<Prisma.TransactionClient>((resolve, reject) => {
        const start = () =>
          base.$transaction(async (tx) => {
            await tx.$executeRawUnsafe(setScope);
            resolve(tx);
            // Held open until `fn` has finished with it.
            await done;
          }, options);
        settled = start().catch((error: unknown) => {
          reject(error);
          throw error;
        });
      }));
    let result: R;
    try {
      result = await inside(openOnce, fn);
    } catch (error) {
      release(error);
      await settled?.catch(() => undefined);
      throw error;
    }
    release();
    await settled;
    return result;
  }

  /**
   * Runs the callback, or the array of operations, in one transaction scoped to
   * the organization. Atomic: an error rolls back everything.
   */
  function transaction<P extends Prisma.PrismaPromise<unknown>[]>(
    operations: [...P],
    options?: TransactionOptions,
  ): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  function transaction<R>(fn: (tx: Prisma.TransactionClient) => Promise<R>, options?: TransactionOptions): Promise<R>;
  function transaction(
    arg: ((tx: Prisma.TransactionClient) => Promise<unknown>) | Prisma.PrismaPromise<unknown>[],
    options?: TransactionOptions,
  ): Promise<unknown> {
    if (typeof arg === 'function') return interactive(arg, options);
    return interactive(() => inOrder(arg), options);
  }

  return base.$extends({
    name: 'tenantgate:tenant-scope',
    query: {
      $allOperations({ model, operation, args, query }) {
        if (open) return open().then((tx) => runOn(tx, model, operation, args));
        return base.$transaction([base.$executeRawUnsafe(setScope), query(args)]).then((results) => results[1]);
      },
    },
    client: { $transaction: transaction, $transactionOnDemand: transactionOnDemand },
  });
}

/** Prisma's raw-SQL operations: scoped like every other operation. */
const RAW_OPERATIONS = new Set(['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe', '$queryRawTyped']);

/**
 * The tenant client of a held transaction: the same interface, every operation
 * run in the held transaction on its bound client (already scoped: no SET LOCAL
 * here). `$transaction` joins it, and `$transactionOnDemand` ends it: COMMIT when
 * `fn` resolves, ROLLBACK when it throws.
 *
 * It is a proxy of the bound PrismaClient rather than a `$extends` of it, with
 * the same effect: every operation (model methods and raw SQL) enters through
 * `held.run()` when it is executed, that is when it is awaited, so one a request
 * starts late is refused and none is in flight when the transaction ends. What
 * a resolver should not reach (`$extends`, `$connect`, the client's internals) it
 * does not offer.
 *
 * PERF: `$extends` builds a client of composite proxies per request, and each of
 * those assigns a function literal to a property (Prisma's runtime, Node 20):
 * such a closure goes straight to V8's old generation and, dead, kept the
 * request's whole object graph alive through young-generation collections
 * until the next full one (src/db/send-query.ts has the mechanism; README,
 * design notes, "What V8 keeps").
 */
function heldTenantClient(held: HeldTransaction): TenantClient {
  const client = held.prisma;
  /** Runs a lazy PrismaPromise inside the held transaction when it is awaited, once. */
  const gate = (operation: PromiseLike<unknown>): PromiseLike<unknown> => {
    let running: Promise<unknown> | undefined;
    const start = () => (running ??= held.run(async () => operation));
    return {
      then: (onFulfilled, onRejected) => start().then(onFulfilled, onRejected),
      catch: (onRejected: (reason: unknown) => unknown) => start().catch(onRejected),
      finally: (onFinally: () => void) => start().finally(onFinally),
      [Symbol.toStringTag]: 'PrismaPromise',
    } as PromiseLike<unknown>;
  };
  const gated = (target: object, operation: (...args: unknown[]) => PromiseLike<unknown>) =>
    (...args: unknown[]) => gate(operation.apply(target, args));
  const refused = (key: string) => () => {
    throw new Error(`A tenant client has no ${key}: it offers the models, raw SQL, $transaction and $transactionOnDemand`);
  };

  const members = new Map<PropertyKey, unknown>();
  const member = (key: PropertyKey, make: () => unknown) => {
    if (!members.has(key)) members.set(key, make());
    return members.get(key);
  };
  const delegate = (model: object) =>
    new Proxy(model, {
      get(target, key) {
        // `$parent` would hand out the bound client itself.
        if (typeof key === 'string' && key.startsWith('$') && key !== '$name') return undefined;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? gated(target, value as (...args: unknown[]) => PromiseLike<unknown>) : value;
      },
    });

  function transaction<P extends Prisma.PrismaPromise<unknown>[]>(
    operations: [...P],
    options?: TransactionOptions,
  ): Promise<{ [K in keyof P]: Awaited<P[K]> }>;
  function transaction<R>(fn: (tx: Prisma.TransactionClient) => Promise<R>, options?: TransactionOptions): Promise<R>;
  function transaction(arg: ((tx: Prisma.TransactionClient) => Promise<unknown>) | Prisma.PrismaPromise<unknown>[]): Promise<unknown> {
    if (typeof arg === 'function') return held.run(() => arg(self as unknown as Prisma.TransactionClient));
    return held.run(() => inOrder(arg));
  }
  async function transactionOnDemand<R>(fn: () => Promise<R>, options?: OnDemandOptions): Promise<R> {
    let result: R;
    try {
      result = await fn();
    } catch (error) {
      await held.end('ROLLBACK');
      throw error;
    }
    const committed = held.end('COMMIT');
    // The held transaction is READ ONLY: its reads were complete when `fn`
    // resolved, and COMMIT only lets go of its locks and connection. Should it
    // fail, end() has destroyed the connection; nothing is lost.
    if (options?.commitInBackground) committed.catch(() => undefined);
    else await committed;
    return result;
  }

  const self = new Proxy(client, {
    get(target, key) {
      if (key === '$transaction') return transaction;
      if (key === '$transactionOnDemand') return transactionOnDemand;
      if (typeof key !== 'string') return undefined;
      const value: unknown = Reflect.get(target, key);
      if (RAW_OPERATIONS.has(key)) {
        return typeof value === 'function' ? member(key, () => gated(target, value as (...args: unknown[]) => PromiseLike<unknown>)) : undefined;
      }
      if (key.startsWith('_')) return undefined;
      if (key.startsWith('$')) return typeof value === 'function' ? refused(key) : undefined;
      // The rest of a PrismaClient's keys are its model delegates.
      if (typeof value === 'object' && value !== null) return member(key, () => delegate(value));
      return undefined;
    },
  });
  return self as unknown as TenantClient;
}

export type TenantClient = ReturnType<typeof scopedTenantClient>;
