import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../src/db/client';
import { createTenantClient, scopeStatement, type TenantClient } from '../src/db/tenant';
import { Prisma } from '../src/generated/prisma/client';
import { type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * The tenant client against real PostgreSQL, connected as the runtime role:
 * every operation scoped (raw SQL included), the caller's transactions atomic,
 * nothing leaking across pooled connections, and no organization means no rows.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));
beforeAll(async () => {
  await h.system.prisma.project.createMany({
    data: [
      { organizationId: acme.id, ownerId: acme.owner.id, name: 'acme-1' },
      { organizationId: acme.id, ownerId: acme.owner.id, name: 'acme-2' },
      { organizationId: globex.id, ownerId: globex.owner.id, name: 'globex-1' },
    ],
  });
});

const tenant = (org: TestOrganization) => createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id });

describe('scoping', () => {
  it('scopes model reads to the organization, both sides', async () => {
    const acmeNames = (await tenant(acme).project.findMany()).map((p) => p.name).sort();
    const globexNames = (await tenant(globex).project.findMany()).map((p) => p.name).sort();
    expect(acmeNames).toEqual(['acme-1', 'acme-2']);
    expect(globexNames).toEqual(['globex-1']);
  });

  it('scopes raw SQL: $queryRaw, $queryRawUnsafe and $executeRaw', async () => {
    const raw = await tenant(acme).$queryRaw<{ name: string }[]>`SELECT name FROM projects ORDER BY name`;
    expect(raw.map((r) => r.name)).toEqual(['acme-1', 'acme-2']);
    const unsafe = await tenant(globex).$queryRawUnsafe<{ name: string }[]>('SELECT name FROM projects');
    expect(unsafe.map((r) => r.name)).toEqual(['globex-1']);
    // An UPDATE of "every" project touches only the caller's.
    const touched = await tenant(globex).$executeRaw`UPDATE projects SET updated_at = now()`;
    expect(touched).toBe(1);
    const unsafeTouched = await tenant(acme).$executeRawUnsafe('UPDATE projects SET updated_at = now()');
    expect(unsafeTouched).toBe(2);
  });

  it('finds another organization\'s row by id as null, and cannot update or delete it', async () => {
    const [globexProject] = await tenant(globex).project.findMany();
    const where = { organizationId_id: { organizationId: globex.id, id: globexProject.id } };
    await expect(tenant(acme).project.findUnique({ where })).resolves.toBeNull();
    await expect(tenant(acme).project.update({ where, data: { name: 'stolen' } })).rejects.toMatchObject({ code: 'P2025' });
    await expect(tenant(acme).project.delete({ where })).rejects.toMatchObject({ code: 'P2025' });
    await expect(tenant(acme).project.updateMany({ data: { name: 'stolen' }, where: { id: globexProject.id } })).resolves.toEqual({ count: 0 });
    // The owner still has it, untouched.
    await expect(tenant(globex).project.findUnique({ where })).resolves.toMatchObject({ name: 'globex-1' });
  });

  it('fills organization_id from the scope, and refuses another organization\'s id (WITH CHECK)', async () => {
    const created = await tenant(acme).project.create({ data: { name: 'acme-auto', ownerId: acme.owner.id } });
    expect(created.organizationId).toBe(acme.id);
    await expect(
      tenant(acme).project.create({ data: { name: 'planted', organizationId: globex.id, ownerId: globex.owner.id } }),
    ).rejects.toThrow(/row-level security/);
    expect(await tenant(globex).project.count({ where: { name: 'planted' } })).toBe(0);
    await tenant(acme).project.delete({ where: { organizationId_id: { organizationId: acme.id, id: created.id } } });
  });

  it('refuses a scope that is not a UUID before any SQL is built', () => {
    expect(() => scopeStatement({ organizationId: "x'; SET ROLE postgres; --" })).toThrow(/must be a UUID/);
  });
});

describe('fails closed', () => {
  it('sees no tenant rows with no organization, through the client and through raw SQL', async () => {
    const anonymous = createTenantClient(h.db.prisma, { organizationId: null });
    await expect(anonymous.project.findMany()).resolves.toEqual([]);
    await expect(anonymous.$queryRaw`SELECT * FROM projects`).resolves.toEqual([]);
    await expect(anonymous.organization.findMany()).resolves.toEqual([]);
    await expect(anonymous.membership.count()).resolves.toBe(0);
  });

  it('sees no rows through the bare runtime client either, on fresh and on reused connections', async () => {
    // Make every pooled connection one that has had the setting ('' afterwards, not NULL).
    await Promise.all(Array.from({ length: 20 }, () => tenant(acme).project.count()));
    for (let i = 0; i < 5; i += 1) {
      await expect(h.db.prisma.$queryRaw`SELECT id FROM projects`).resolves.toEqual([]);
    }
  });

  it('an organization id that does not exist sees nothing', async () => {
    const ghost = createTenantClient(h.db.prisma, { organizationId: randomUUID() });
    await expect(ghost.project.count()).resolves.toBe(0);
  });
});

/** Every model's delegate key, from the generated client. */
const modelKeys = Object.values(Prisma.ModelName).map((name) => `${name[0].toLowerCase()}${name.slice(1)}`);

it('offers a delegate for every model of the generated client, on the client and on its transactions', async () => {
  const client = tenant(acme);
  const delegates = (c: TenantClient) => modelKeys.filter((key) => typeof Reflect.get(Reflect.get(c, key) ?? {}, 'findMany') === 'function');
  expect(modelKeys.length).toBeGreaterThan(10);
  expect(delegates(client)).toEqual(modelKeys);
  expect(await client.$transaction(async (tx) => delegates(tx))).toEqual(modelKeys);
});

describe("the caller's transactions", () => {
  it('rolls back everything in an interactive transaction that throws', async () => {
    const client = tenant(acme);
    await expect(
      client.$transaction(async (tx) => {
        await tx.project.create({ data: { name: 'rollback-1', ownerId: acme.owner.id } });
        await tx.project.create({ data: { name: 'rollback-2', ownerId: acme.owner.id } });
        await tx.$executeRaw`UPDATE projects SET name = 'renamed' WHERE name = 'acme-1'`;
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await client.project.count({ where: { name: { in: ['rollback-1', 'rollback-2', 'renamed'] } } })).toBe(0);
    expect(await client.project.count({ where: { name: 'acme-1' } })).toBe(1);
  });

  it('commits an interactive transaction, scoped, in one database transaction; the outer client is not in it', async () => {
    const client = tenant(acme);
    const result = await client.$transaction(async (tx) => {
      const [{ xid: first }] = await tx.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`;
      const [{ xid: second }] = await tx.$transaction((nested) => nested.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`);
      // The transaction is passed explicitly: an operation on the outer client runs in a transaction of its own.
      const [{ xid: outside }] = await client.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`;
      const count = await tx.project.count();
      return { nestedJoins: first === second, outerJoins: first === outside, count };
    });
    expect(result).toEqual({ nestedJoins: true, outerJoins: false, count: await client.project.count() });
  });

  it('gives two concurrent interactive transactions of one client their own transactions', async () => {
    const client = tenant(acme);
    const xid = (tx: TenantClient) => tx.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`.then(([row]) => row.xid);
    const [a, b] = await Promise.all([
      client.$transaction(async (tx) => [await xid(tx), await xid(tx)]),
      client.$transaction(async (tx) => [await xid(tx), await xid(tx)]),
    ]);
    expect(a[0]).toBe(a[1]);
    expect(b[0]).toBe(b[1]);
    expect(a[0]).not.toBe(b[0]);
  });

  it('rolls back the whole array form when one operation fails', async () => {
    const client = tenant(acme);
    await expect(
      client.$transaction([
        client.project.create({ data: { name: 'batch-ok', ownerId: acme.owner.id } }),
        // Violates the composite foreign key: the owner is not a member of acme.
        client.project.create({ data: { name: 'batch-bad', ownerId: globex.owner.id } }),
      ]),
    ).rejects.toThrow();
    expect(await client.project.count({ where: { name: { in: ['batch-ok', 'batch-bad'] } } })).toBe(0);
  });

  it('returns the results of the array form in order', async () => {
    const client = tenant(globex);
    const [count, names] = await client.$transaction([
      client.project.count(),
      client.$queryRaw<{ name: string }[]>`SELECT name FROM projects`,
    ]);
    expect(count).toBe(1);
    expect(names).toEqual([{ name: 'globex-1' }]);
  });
});

describe('$transactionOnDemand (the request transaction of queries)', () => {
  it('opens no transaction for a callback that reads nothing', async () => {
    const before = h.db.statementCount();
    await expect(tenant(acme).$transactionOnDemand(async () => 42)).resolves.toBe(42);
    expect(h.db.statementCount() - before).toBe(0);
  });

  it('runs every operation of the callback, concurrent ones too, in one scoped transaction', async () => {
    const client = tenant(acme);
    const xids = await client.$transactionOnDemand(() =>
      Promise.all([
        client.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`,
        client.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`,
        client.project.count().then(async () => client.$queryRaw<{ xid: bigint }[]>`SELECT txid_current() AS xid`),
      ]),
    );
    expect(new Set(xids.map(([{ xid }]) => xid)).size).toBe(1);
  });

  it('rolls back when the callback throws', async () => {
    const client = tenant(acme);
    await expect(
      client.$transactionOnDemand(async () => {
        await client.project.create({ data: { name: 'on-demand-rollback', ownerId: acme.owner.id } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await client.project.count({ where: { name: 'on-demand-rollback' } })).toBe(0);
  });
});

describe('pooled connections', () => {
  let small: Database;
  beforeAll(() => {
    small = createDatabase({ url: h.runtimeUrl, max: 10 });
  });
  afterAll(() => small.close());

  it('1,000 concurrent operations alternating between organizations over a pool of 10 return only their own rows', async () => {
    const orgs = [acme, globex];
    const expected = new Map<string, string[]>();
    for (const org of orgs) expected.set(org.id, (await tenant(org).project.findMany()).map((p) => p.id).sort());

    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const org = orgs[i % 2];
        const client = createTenantClient(small.prisma, { organizationId: org.id });
        // Alternate model and raw operations: both paths share the pool.
        const ids =
          i % 4 < 2
            ? (await client.project.findMany({ select: { id: true } })).map((p) => p.id)
            : (await client.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM projects`).map((p) => p.id);
        return { org: org.id, ids: ids.sort() };
      }),
    );
    const wrong = results.filter((r) => JSON.stringify(r.ids) !== JSON.stringify(expected.get(r.org)));
    expect(wrong).toEqual([]);
    expect(results).toHaveLength(1000);
  });
});
