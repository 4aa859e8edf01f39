/**
 * One measurement of the transaction micro-benchmark, in a worker thread of its
 * own (see bench/transactions.ts for why): warm up, report ready, wait for "go",
 * run the units, report the figures, close the pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabase } from '../src/db/client';
import { createTenantClient, scopeStatement, type TenantClient } from '../src/db/tenant';
import type { Prisma } from '../src/generated/prisma/client';
import type { TransactionJob, TransactionWorkerMessage, UnitTimings } from './transactions';

const job = workerData as TransactionJob;
if (!parentPort) throw new Error('bench/transactions-worker.ts runs as a worker thread only');
const port = parentPort;

/** The three operations of a unit, whatever client they run on. */
interface UnitOps {
  membership(userId: string): Promise<unknown[]>;
  page(): Promise<{ ownerId: string }[]>;
  owners(ids: string[]): Promise<unknown[]>;
}

// The shapes the gateway's loaders and connection use: role by user id, a page of 20 (+1 to know whether there is a next), users by id.
const membershipArgs = (userId: string) =>
  ({ where: { userId: { in: [userId] } }, select: { userId: true, role: true } }) satisfies Prisma.MembershipFindManyArgs;
const pageArgs = { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 } satisfies Prisma.ProjectFindManyArgs;
const ownersArgs = (ids: string[]) => ({ where: { id: { in: ids } } }) satisfies Prisma.UserFindManyArgs;

function tenantOps(db: TenantClient): UnitOps {
  return {
    membership: (userId) => db.membership.findMany(membershipArgs(userId)),
    page: () => db.project.findMany(pageArgs),
    owners: (ids) => db.user.findMany(ownersArgs(ids)),
  };
}

function txOps(tx: Prisma.TransactionClient): UnitOps {
  return {
    membership: (userId) => tx.membership.findMany(membershipArgs(userId)),
    page: () => tx.project.findMany(pageArgs),
    owners: (ids) => tx.user.findMany(ownersArgs(ids)),
  };
}

/** Checks its own results: a unit that ran outside the scope would read nothing, fast. */
async function unitOfWork(ops: UnitOps, userId: string): Promise<void> {
  const membership = await ops.membership(userId);
  if (membership.length !== 1) throw new Error(`membership check found ${membership.length} rows, expected 1`);
  const page = await ops.page();
  if (page.length === 0) throw new Error('empty page: the scope did not apply');
  const ownerIds = [...new Set(page.map((p) => p.ownerId))];
  const owners = await ops.owners(ownerIds);
  if (owners.length !== ownerIds.length) throw new Error(`found ${owners.length} of ${ownerIds.length} owners`);
}

const db = createDatabase({ url: job.runtimeUrl, max: job.poolSize, applicationName: 'tenantgate-bench-tx' });

/** Unit i of the run: the organizations rotate in the same order in every mode. */
function unit(i: number): Promise<void> {
  const org = job.sample[(i * 7919) % job.sample.length];
  const scope = { organizationId: org.organizationId, userId: org.userId };
  switch (job.mode) {
    case 'batch':
      // A fresh tenant client per unit, as a request gets one.
      return unitOfWork(tenantOps(createTenantClient(db.prisma, scope)), org.userId);
    case 'interactive': {
      const tenant = createTenantClient(db.prisma, scope);
      return tenant.$transaction((tx) => unitOfWork(tenantOps(tx), org.userId));
    }
    case 'interactive-direct':
      // What the tenant client's interactive path sends, without the tenant client.
      return db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(scopeStatement(scope));
        await unitOfWork(txOps(tx), org.userId);
      });
  }
}

/**
 * Runs `units` calls with `concurrency` in flight. A failing unit is counted,
 * not thrown: at 50 in flight on 10 connections an interactive transaction may
 * wait longer than Prisma's maxWait, and that is a result.
 */
async function runUnits(first: number, units: number, concurrency: number): Promise<UnitTimings> {
  const latencies: number[] = [];
  const finishedAt: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const startedAt = performance.now();
  const deadline = startedAt + job.maxSeconds * 1000;
  let capped = false;
  const statementsBefore = db.statementCount();
  async function lane(): Promise<void> {
    while (next < units) {
      if (performance.now() > deadline) {
        capped = true;
        return;
      }
      const i = first + next++;
      const started = performance.now();
      try {
        await unit(i);
        const now = performance.now();
        latencies.push(now - started);
        finishedAt.push(now);
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message.trim().split('\n').pop();
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, units) }, lane));
  return {
    startedAt,
    endedAt: performance.now(),
    latencies,
    finishedAt,
    errors,
    firstError,
    statements: db.statementCount() - statementsBefore,
    capped,
  };
}

async function main(): Promise<void> {
  // Warm-up: connections opened, Prisma's query plans cached, JIT done.
  const warm = await runUnits(0, job.warmup, Math.min(job.concurrency, job.poolSize));
  if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} units failed, e.g. ${warm.firstError}`);
  port.postMessage({ kind: 'ready' } satisfies TransactionWorkerMessage);
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  const timings = await runUnits(job.warmup, job.iterations, job.concurrency);
  port.postMessage({ kind: 'done', timings } satisfies TransactionWorkerMessage);
}

main()
  .catch((error: Error) => port.postMessage({ kind: 'error', error: error.stack ?? error.message } satisfies TransactionWorkerMessage))
  .finally(() => db.close());
