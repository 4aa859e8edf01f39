import { PrismaPg } from '@prisma/adapter-pg';
import { createPrismaPromiseFactory, installPlainPrismaPromises } from '../src/db/prisma-promise';
import { PrismaClient } from '../src/generated/prisma/client';
import { startHarness, type Harness } from './helpers/harness';

/**
 * The gateway's PrismaClients make PrismaPromises whose `spec` is a data
 * property, not a getter (src/db/prisma-promise.ts: V8 keeps what a dead
 * getter reaches through young-generation collections), and which behave as
 * Prisma's own: lazy, run once, usable in Prisma's batch transactions.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it("recognizes this Prisma version's PrismaPromise factory and replaces it (a Prisma upgrade that changes it fails here)", async () => {
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://unused@127.0.0.1:1/unused' }) });
  const before = client.project.findMany();
  expect(typeof Object.getOwnPropertyDescriptor(before, 'spec')?.get).toBe('function');
  expect(installPlainPrismaPromises(client)).toBe(true);
  const after = client.project.findMany({ take: 1 });
  const spec = Object.getOwnPropertyDescriptor(after, 'spec');
  expect(spec?.get).toBeUndefined();
  expect(spec?.value).toMatchObject({ action: 'findMany', model: 'Project', args: { take: 1 } });
  expect(Object.prototype.toString.call(after)).toBe('[object PrismaPromise]');
  // Lazy: nothing ran, so an unreachable database was never asked.
  await client.$disconnect();
});

it('leaves alone a client whose factory it does not recognize', () => {
  const unknown = { _createPrismaPromise: () => ({ then() {} }) };
  const original = unknown._createPrismaPromise;
  expect(installPlainPrismaPromises(unknown)).toBe(false);
  expect(unknown._createPrismaPromise).toBe(original);
  expect(installPlainPrismaPromises({})).toBe(false);
});

it("is installed on the gateway's clients, whose operations then run as before", async () => {
  const operation = h.db.prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one`;
  expect(Object.getOwnPropertyDescriptor(operation, 'spec')?.get).toBeUndefined();
  expect(await operation).toEqual([{ one: 1 }]);
  // Prisma's batch transaction drives them through requestTransaction.
  const [a, b] = await h.db.prisma.$transaction([h.db.prisma.$queryRaw<{ n: number }[]>`SELECT 2 AS n`, h.db.prisma.$queryRaw<{ n: number }[]>`SELECT 3 AS n`]);
  expect([a, b]).toEqual([[{ n: 2 }], [{ n: 3 }]]);
});

describe('createPrismaPromiseFactory', () => {
  it('runs the callback only when awaited, and once however often it is awaited', async () => {
    const callback = jest.fn(async () => 'rows');
    const promise = createPrismaPromiseFactory()(callback, { action: 'findMany' });
    expect(callback).not.toHaveBeenCalled();
    expect(await promise).toBe('rows');
    expect(await promise).toBe('rows');
    await promise.finally(() => undefined);
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback).toHaveBeenCalledWith(undefined);
  });

  it('reports a callback that throws as a rejection, through then, catch and finally', async () => {
    const promise = createPrismaPromiseFactory()(() => {
      throw new Error('refused');
    });
    await expect(promise).rejects.toThrow('refused');
    await expect(promise.catch((error) => `caught ${(error as Error).message}`)).resolves.toBe('caught refused');
    await expect(promise.finally(() => undefined)).rejects.toThrow('refused');
  });

  it('passes a batch transaction to the callback on every request, as Prisma does', async () => {
    const callback = jest.fn(async (transaction?: { kind: string }) => transaction?.kind);
    const promise = createPrismaPromiseFactory()(callback);
    const batch = { kind: 'batch', id: 1, isolationLevel: undefined, index: 0, lock: Promise.resolve() };
    expect(await promise.requestTransaction(batch)).toBe('batch');
    expect(await promise.requestTransaction(batch)).toBe('batch');
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it('binds an interactive transaction given to the factory, and runs it once', async () => {
    const callback = jest.fn(async (transaction?: { kind: string }) => transaction?.kind);
    const itx = { kind: 'itx', id: 'tx-1' };
    const promise = createPrismaPromiseFactory(itx)(callback);
    expect(await promise).toBe('itx');
    expect(await promise).toBe('itx');
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback).toHaveBeenCalledWith(itx);
  });
});
