import type { TenantClient } from '../db/tenant';
import type { Prisma } from '../generated/prisma/client';
import type { QuotaResource } from '../generated/prisma/enums';
import { quotaExceeded } from '../errors';
import { readLimitingQuotas, type Quota } from './limits';

/**
 * Enforcement: a create runs only when the organization's quota leaves room for
 * it, and two creates cannot both take the last place.
 *
 * Mutations declare their quota (`quota: 'PROJECTS'`, src/quotas/pothos-plugin.ts)
 * and the plugin runs the resolver through withinQuota: one tenant transaction
 * that takes an advisory lock for (organization, resource), counts, and lets the
 * resolver write. The transaction is passed explicitly: the resolver runs with
 * a context whose ctx.tenantDb() is that transaction (src/builder.ts). The
 * lock is held until COMMIT, so the next create of the same organization and
 * resource counts only after this one's row is committed: check and write are one
 * step, across gateway processes too. Other organizations and other resources
 * take other locks and never wait.
 *
 * The resolver runs inside that transaction, so a statement that fails aborts
 * it: a resolver under `quota` must not query again after catching a database
 * error (createProject reads what would explain a refusal beforehand), and a
 * deferred constraint fails at the plugin's COMMIT, not at the resolver's.
 *
 * Storage has no upload path yet. One declares its bytes:
 *
 *   quota: { resource: 'STORAGE', amount: ({ input }) => input.size }
 *
 * and adds them to storage_usage in its resolver, i.e. in the same transaction,
 * so the next upload counts them (storage_usage then needs a writer: a grant or
 * a SECURITY DEFINER function that only adds). Outside GraphQL, withinQuota is
 * the same thing, enforceQuota the check for a transaction of one's own, and
 * lockQuota the lock alone, for writes that must not interleave with creates.
 */

export interface QuotaClaim {
  resource: QuotaResource;
  /** How much the write adds: 1 for a row, the bytes of an upload. */
  amount: number;
}

const NOUN: Record<QuotaResource, string> = {
  USERS: 'Member',
  PROJECTS: 'Project',
  STORAGE: 'Storage',
  API_CALLS: 'API call',
  CUSTOM_DOMAINS: 'Custom domain',
  TASKS: 'Task',
};

const BYTE_UNITS: [string, number][] = [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]];

/** A limit as people read it: `1,000`; bytes in binary units, `1 GB`, `1.5 GB`. */
export function formatLimit(resource: QuotaResource, limit: number): string {
  if (resource === 'STORAGE') {
    const [unit, size] = BYTE_UNITS.find(([, bytes]) => limit >= bytes) ?? ['bytes', 1];
    return `${Number((limit / size).toFixed(2))} ${unit}`;
  }
  return limit.toLocaleString('en-US');
}

function exceeded({ resource, limit, used }: Quota & { limit: number }) {
  return quotaExceeded(`${NOUN[resource]} limit reached (${formatLimit(resource, limit)}). Upgrade to create more.`, { resource, limit, used });
}

/**
 * Takes the current organization's lock for `resource` until the transaction
 * ends. Creates take it before they count (enforceQuota); anything else that must
 * not interleave with them (e.g. lowering seats below the member count) takes it
 * too, through this function, so that the key stays one.
 */
export async function lockQuota(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, resource: QuotaResource): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('quota:' || app.current_org_id()::text || ':' || ${resource}, 0))`;
}

/**
 * Inside a tenant transaction: waits for the (organization, resource) lock, then
 * throws QUOTA_EXCEEDED unless the quota leaves room for the claim. Whatever the
 * transaction writes afterwards is covered until it ends.
 */
export async function enforceQuota(tx: Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw'>, claim: QuotaClaim): Promise<void> {
  await lockQuota(tx, claim.resource);
  // A statement of its own, after the lock: under READ COMMITTED every statement
  // takes a fresh snapshot, so this one sees the row of the lock's previous holder.
  // Counted in the statement that takes the lock, it would not (its snapshot
  // predates the wait).
  const [quota] = await readLimitingQuotas(tx, [claim.resource]);
  if (quota && quota.used + claim.amount > quota.limit) throw exceeded(quota);
}

/**
 * Runs `write` in one transaction with the quota check before it; nothing is
 * written when the check fails. `write` issues its operations on the `tx` it is
 * given: the check's transaction.
 */
export function withinQuota<T>(db: TenantClient, organizationId: string, claim: QuotaClaim, write: (tx: TenantClient) => Promise<T>): Promise<T> {
  return serially(`${organizationId}:${claim.resource}`, () =>
    db.$transaction(async (tx) => {
      await enforceQuota(tx, claim);
      return write(tx);
    }),
  );
}

const queues = new Map<string, Promise<void>>();

/**
 * Runs `task` once the previous task with the same key has settled.
 *
 * PERF: the advisory lock alone is enough for correctness, but every waiter would
 * hold a pooled connection while it waits, so a burst of creates by one
 * organization would take the whole pool (10) and make everyone else's requests
 * wait for a connection, up to Prisma's maxWait. Queued here first, the burst
 * holds one connection of this process's pool, and its waiters spend no maxWait.
 * The lock still serialises gateway processes among each other.
 */
function serially<T>(key: string, task: () => Promise<T>): Promise<T> {
  const result = (queues.get(key) ?? Promise.resolve()).then(task);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return result;
}
