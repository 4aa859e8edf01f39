import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Client } from 'pg';
import { createTokenVerifier } from '../src/auth/tokens';
import { describeInvoiceRun, generateInvoices } from '../src/billing/invoicing';
import { markPastDue, recordPayment } from '../src/billing/payments';
import { parsePeriod } from '../src/billing/period';
import { createTenantClient } from '../src/db/tenant';
import { createSystemDatabase } from '../src/db/system';
import type { Plan } from '../src/generated/prisma/enums';
import { PAYMENT_SIGNATURE_HEADER, signPaymentWebhook } from '../src/plugins/use-payment-webhook';
import { withinQuota } from '../src/quotas/enforce';
import { createGateway, type Gateway } from '../src/yoga';
import { graphql } from './gql';
import { errorCodes, startHarness, TEST_SECRET, type Harness, type TestOrganization, type TestUser, platformId } from './helpers/harness';

/**
 * Billing through the GraphQL endpoint, the webhook and the jobs, against real
 * PostgreSQL: subscription changes (owners only, never fewer seats than
 * members, even racing addMember), invoices exact to the cent and idempotent
 * under concurrent runs, invoices seen only by their organization's owners and
 * admins, payments by operators and by the signed webhook, and past due.
 */

const UpdateSubscription = graphql(`
  mutation UpdateSubscription($input: UpdateSubscriptionInput!) {
    updateSubscription(input: $input) { organization { id subscription { plan seats addOns status paidThrough } } }
  }
`);

const InvoicesQuery = graphql(`
  query Invoices($first: Int, $after: String, $status: InvoiceStatus) {
    invoices(first: $first, after: $after, status: $status) {
      totalCount
      edges {
        node {
          id period status plan dueDate issuedAt paidAt
          total { amountMinor currency }
          lineItems { kind description quantity unitPrice { amountMinor currency } amount { amountMinor currency } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const InvoiceNode = graphql(`
  query InvoiceNode($id: ID!) {
    node(id: $id) { id ... on Invoice { period } }
  }
`);

const GenerateInvoices = graphql(`
  mutation GenerateInvoices($input: GenerateInvoicesInput!) {
    generateInvoices(input: $input) {
      period created skipped summary
      invoices { id organizationId period status plan total { amountMinor currency } dueDate paidAt }
    }
  }
`);

const RecordPayment = graphql(`
  mutation RecordPayment($input: RecordPaymentInput!) {
    recordPayment(input: $input) { invoice { id status paidAt total { amountMinor currency } } subscriptionStatus paidThrough }
  }
`);

const MarkPastDue = graphql(`
  mutation MarkPastDue($input: MarkPastDueInput!) {
    markPastDue(input: $input) { organizationIds }
  }
`);

const GB = 1024n ** 3n;
const HOUR_MS = 3_600_000n;
const REASON = 'Ticket #815: month-end billing';
const WEBHOOK_SECRET = 'whsec-test-secret-for-the-payment-webhook';

let h: Harness;
let operator: TestUser;

beforeAll(async () => {
  h = await startHarness();
  operator = await h.createPlatformOperator();
});
afterAll(() => h.close());

/** An organization on `plan`, a customer since 2020 (so any recent month is billable). */
async function customer(plan: Plan = 'PRO', subscription: { seats?: number; addOns?: string[] } = {}): Promise<TestOrganization> {
  const org = await h.createOrganization(`Billed ${plan}`);
  await h.system.prisma.organization.update({ where: { id: org.id }, data: { createdAt: new Date('2020-01-01T00:00:00Z') } });
  await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { plan, ...subscription } });
  await backdate(org, '2020-01-01T00:00:00Z');
  return org;
}

/**
 * Moves the subscription states recorded in the last ten minutes (the trigger
 * stamps them with now()) to `at`, as if the change had been made then.
 */
async function backdate(org: TestOrganization, at: string): Promise<void> {
  const moved = await h.system.prisma.$executeRaw`
    UPDATE subscription_history SET effective_at = ${new Date(at)}
     WHERE organization_id = ${org.id}::uuid AND effective_at > now() - interval '10 minutes'`;
  expect(moved).toBeGreaterThan(0);
}

/** The owner changes the subscription through updateSubscription; the change is then dated `at`. */
async function changeAt(org: TestOrganization, at: string, input: { plan?: Plan; seats?: number; addOns?: string[] }): Promise<void> {
  const response = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input } });
  expect(response.errors).toBeUndefined();
  await backdate(org, at);
}

/** An invoice's lines as `description: amount`, in order. */
async function linesOf(invoiceId: string): Promise<string[]> {
  const items = await h.system.prisma.invoiceLineItem.findMany({ where: { invoiceId }, orderBy: { position: 'asc' } });
  return items.map((item) => `${item.description}: ${item.amountMinor}`);
}

function usage(org: TestOrganization, day: string, values: { bandwidthBytes?: bigint; computeMs?: bigint; apiCalls?: bigint }) {
  return h.system.prisma.usageDaily.create({ data: { organizationId: org.id, day: new Date(`${day}T00:00:00Z`), ...values } });
}

/** Invoices `month` for these organizations, issued at `issuedAt`. */
function invoice(month: string, issuedAt: string, orgs: TestOrganization[]) {
  const now = new Date(issuedAt);
  return generateInvoices(h.system, { period: parsePeriod(month, now), now, organizationIds: orgs.map((o) => o.id) });
}

const subscriptionOf = (org: TestOrganization) => h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: org.id } });
const invoiceOf = (org: TestOrganization) => h.system.prisma.invoice.findFirstOrThrow({ where: { organizationId: org.id }, orderBy: { period: 'desc' } });
const invoiceId = (id: string) => encodeGlobalID('Invoice', id);
const money = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/** Resolves once a statement like `pattern` waits for a lock in this database; fails with `otherwise` after 10 s. */
async function waitingForLock(pattern: string, otherwise: string): Promise<void> {
  for (let tries = 0; tries < 400; tries += 1) {
    const [{ waiting }] = await h.system.prisma.$queryRaw<{ waiting: bigint }[]>`
      SELECT count(*) AS waiting FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ${pattern}`;
    if (waiting > 0n) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(otherwise);
}

/** One calendar month later in UTC, clamped to the month's end (as PostgreSQL does). */
function monthLater(date: Date): Date {
  const next = new Date(date);
  next.setUTCDate(1);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  next.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return next;
}

describe('updateSubscription', () => {
  it('lets the owner change plan, seats and add-ons', async () => {
    const org = await h.createOrganization();
    const response = await h.execute(UpdateSubscription, {
      token: org.owner.token,
      variables: { input: { plan: 'PRO', seats: 12, addOns: ['sso', 'priority-support'] } },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.updateSubscription.organization.subscription).toEqual({
      plan: 'PRO',
      seats: 12,
      addOns: ['sso', 'priority-support'],
      status: 'ACTIVE',
      paidThrough: null,
    });
    expect(await subscriptionOf(org)).toMatchObject({ plan: 'PRO', seats: 12, addOns: ['sso', 'priority-support'] });

    // Left out: unchanged. [] removes the add-ons.
    const again = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { addOns: [] } } });
    expect(again.data!.updateSubscription.organization.subscription).toMatchObject({ plan: 'PRO', seats: 12, addOns: [] });
  });

  it.each(['admin', 'member'] as const)('is FORBIDDEN to an %s, and changes nothing', async (who) => {
    const org = await h.createOrganization();
    const response = await h.execute(UpdateSubscription, { token: org[who].token, variables: { input: { plan: 'ENTERPRISE', seats: 9 } } });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Requires the role OWNER', extensions: { code: 'FORBIDDEN' } })]);
    expect(await subscriptionOf(org)).toMatchObject({ plan: 'FREE', seats: 5 });
  });

  it('refuses fewer seats than members, naming input.seats', async () => {
    const org = await h.createOrganization(); // owner, admin, member
    const response = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { plan: 'PRO', seats: 2 } } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0].extensions!.fields).toEqual([{ field: 'input.seats', message: 'must be at least 3, the number of members' }]);
    expect(await subscriptionOf(org)).toMatchObject({ plan: 'FREE', seats: 5 });

    const exact = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { seats: 3 } } });
    expect(exact.data!.updateSubscription.organization.subscription.seats).toBe(3);
  });

  it('refuses unknown and repeated add-ons, naming each', async () => {
    const org = await h.createOrganization();
    const unknown = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { addOns: ['sso', 'gold-support', 'x'] } } });
    expect(errorCodes(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0].extensions!.fields).toEqual([
      { field: 'input.addOns.1', message: 'is not an add-on; there are advanced-analytics, priority-support, sso' },
      { field: 'input.addOns.2', message: 'is not an add-on; there are advanced-analytics, priority-support, sso' },
    ]);
    const twice = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { addOns: ['sso', 'sso'] } } });
    expect(twice.errors![0].extensions!.fields).toEqual([{ field: 'input.addOns.1', message: 'lists sso twice' }]);
    const seats = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { seats: 0 } } });
    expect(seats.errors![0].extensions!.fields).toEqual([{ field: 'input.seats', message: 'must be at least 1' }]);
    expect(await subscriptionOf(org)).toMatchObject({ seats: 5, addOns: [] });
  });

  it('waits for a member being added (the USERS quota lock) and then counts it', async () => {
    const org = await h.createOrganization();
    const newcomer = await h.system.prisma.user.create({ data: { email: `newcomer-${randomUUID()}@example.test`, name: 'Newcomer' } });
    const tenant = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id, role: 'OWNER' });
    let inserted!: () => void;
    let release!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));

    // What addMember does (src/quotas/enforce.ts): the USERS lock, the count, the insert, then COMMIT.
    const adding = withinQuota(tenant, org.id, { resource: 'USERS', amount: 1 }, async (tx) => {
      await tx.membership.create({ data: { organizationId: org.id, userId: newcomer.id, role: 'MEMBER' } });
      inserted();
      await gate;
    });
    await insertedYet;
    const updating = h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { seats: 3 } } });
    // updateSubscription's lock statement (lockQuota, the same as addMember's) waits for addMember's lock.
    await waitingForLock(`%pg_advisory_xact_lock(hashtextextended('quota:'%`, "updateSubscription never waited for the USERS quota lock that addMember holds (is it taken, with the same key?)");
    release();
    await adding;

    const response = await updating;
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'input.seats', message: 'must be at least 4, the number of members' }]);
    expect((await subscriptionOf(org)).seats).toBe(5);
  });
});

describe('invoicing', () => {
  const ISSUED = '2026-11-01T06:00:00.000Z';

  it('prices FREE and PRO organizations from their subscription and the month of usage, to the cent', async () => {
    const free = await customer('FREE');
    const pro = await customer('PRO', { seats: 7, addOns: ['sso', 'priority-support'] });
    // FREE: past its allowance (1 GB, 1 hour), at a price of 0.
    await usage(free, '2026-10-03', { bandwidthBytes: 3n * GB, computeMs: 2n * HOUR_MS });
    // PRO: 100 GB and 1 byte (1 GB started beyond 100 GB), 12.5 hours (3 started beyond 10).
    await usage(pro, '2026-10-01', { bandwidthBytes: 60n * GB, computeMs: 6n * HOUR_MS, apiCalls: 900n });
    await usage(pro, '2026-10-31', { bandwidthBytes: 40n * GB + 1n, computeMs: 13n * HOUR_MS / 2n });
    // Outside the month: not billed.
    await usage(pro, '2026-09-30', { bandwidthBytes: 500n * GB, computeMs: 100n * HOUR_MS });
    await usage(pro, '2026-11-01', { bandwidthBytes: 500n * GB, computeMs: 100n * HOUR_MS });

    const run = await invoice('2026-10', ISSUED, [free, pro]);
    expect(describeInvoiceRun(run)).toBe('2026-10: created 2, skipped 0 already invoiced');

    const proInvoices = await h.execute(InvoicesQuery, { token: pro.owner.token });
    expect(proInvoices.errors).toBeUndefined();
    expect(proInvoices.data!.invoices.edges.map((e) => e.node)).toEqual([
      {
        id: invoiceId(run.created.find((i) => i.organizationId === pro.id)!.id),
        period: '2026-10',
        status: 'OPEN',
        plan: 'PRO',
        total: money(27_310),
        lineItems: [
          { kind: 'BASE_PLAN', description: 'PRO plan', quantity: 1, unitPrice: money(4_900), amount: money(4_900) },
          { kind: 'SEATS', description: 'Seats (7)', quantity: 7, unitPrice: money(1_000), amount: money(7_000) },
          { kind: 'ADD_ON', description: 'Single sign-on', quantity: 1, unitPrice: money(4_900), amount: money(4_900) },
          { kind: 'ADD_ON', description: 'Priority support', quantity: 1, unitPrice: money(9_900), amount: money(9_900) },
          { kind: 'OVERAGE', description: 'Bandwidth beyond the plan (per GB started)', quantity: 1, unitPrice: money(10), amount: money(10) },
          { kind: 'OVERAGE', description: 'Compute time beyond the plan (per hour started)', quantity: 3, unitPrice: money(200), amount: money(600) },
        ],
        issuedAt: ISSUED,
        dueDate: '2026-11-16',
        paidAt: null,
      },
    ]);

    // Nothing to collect: issued PAID, so it can never make the subscription past due.
    const freeInvoices = await h.execute(InvoicesQuery, { token: free.owner.token });
    expect(freeInvoices.data!.invoices.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({
        plan: 'FREE',
        status: 'PAID',
        total: money(0),
        paidAt: ISSUED,
        lineItems: [
          { kind: 'BASE_PLAN', description: 'FREE plan', quantity: 1, unitPrice: money(0), amount: money(0) },
          { kind: 'SEATS', description: 'Seats (5)', quantity: 5, unitPrice: money(0), amount: money(0) },
          { kind: 'OVERAGE', description: 'Bandwidth beyond the plan (per GB started)', quantity: 2, unitPrice: money(0), amount: money(0) },
          { kind: 'OVERAGE', description: 'Compute time beyond the plan (per hour started)', quantity: 1, unitPrice: money(0), amount: money(0) },
        ],
      }),
    ]);
  });

  it('is idempotent: a second run creates nothing, and says so', async () => {
    const [a, b, c, d] = [await customer(), await customer(), await customer(), await customer()];
    expect(describeInvoiceRun(await invoice('2026-09', ISSUED, [a, b]))).toBe('2026-09: created 2, skipped 0 already invoiced');
    expect(describeInvoiceRun(await invoice('2026-09', ISSUED, [a, b]))).toBe('2026-09: created 0, skipped 2 already invoiced');
    expect(describeInvoiceRun(await invoice('2026-09', '2026-11-20T00:00:00Z', [a, b, c, d]))).toBe('2026-09: created 2, skipped 2 already invoiced');
    for (const org of [a, b, c, d]) {
      expect(await h.system.prisma.invoice.count({ where: { organizationId: org.id } })).toBe(1);
      expect(await h.system.prisma.invoiceLineItem.count({ where: { organizationId: org.id } })).toBe(2);
    }
  });

  it('creates one invoice per organization when two runs race, in two processes', async () => {
    const orgs = [await customer(), await customer(), await customer()];
    const other = createSystemDatabase(h.adminUrl);
    try {
      const now = new Date(ISSUED);
      const period = parsePeriod('2026-08', now);
      const organizationIds = orgs.map((o) => o.id);
      const runs = await Promise.all([
        generateInvoices(h.system, { period, now, organizationIds }),
        generateInvoices(other, { period, now, organizationIds }),
      ]);
      expect(runs[0].created.length + runs[1].created.length).toBe(3);
      expect(runs[0].skipped + runs[1].skipped).toBe(3);
    } finally {
      await other.close();
    }
    for (const org of orgs) {
      expect(await h.system.prisma.invoice.count({ where: { organizationId: org.id } })).toBe(1);
      expect(await h.system.prisma.invoiceLineItem.count({ where: { organizationId: org.id } })).toBe(2);
    }
  });

  it('skips organizations created after the month, and subscriptions canceled for the whole month; charges the days before a cancellation', async () => {
    const young = await h.createOrganization(); // created now, after October
    const canceled = await customer();
    await h.system.prisma.subscription.update({ where: { organizationId: canceled.id }, data: { status: 'CANCELED' } });
    await backdate(canceled, '2026-09-15T12:00:00Z');
    const run = await invoice('2026-10', ISSUED, [young, canceled]);
    expect(run.created).toEqual([]);
    expect(run.skipped).toBe(0);

    // Canceled on October 11 at 00:00: the ten days before are charged.
    const leaving = await customer();
    await h.system.prisma.subscription.update({ where: { organizationId: leaving.id }, data: { status: 'CANCELED' } });
    await backdate(leaving, '2026-10-11T00:00:00Z');
    const [bill] = (await invoice('2026-10', ISSUED, [leaving])).created;
    // 4,900 × 10/31 = 1,580.6; 5,000 × 10/31 = 1,612.9
    expect(await linesOf(bill.id)).toEqual(['PRO plan, 10 of 31 days: 1581', 'Seats (5), 10 of 31 days: 1613']);
    expect(bill.totalMinor).toBe(3_194n);
  });

  it('is a platform operator mutation, recorded with the reason; FORBIDDEN to others; the period must be a month that has ended', async () => {
    const orgs = [await customer(), await customer('FREE')];
    const input = { period: '2026-07', organizationIds: orgs.map((o) => platformId(o.id)), reason: REASON };
    const first = await h.execute(GenerateInvoices, { token: operator.token, variables: { input } });
    expect(first.errors).toBeUndefined();
    expect(first.data!.generateInvoices).toMatchObject({ period: '2026-07', created: 2, skipped: 0, summary: '2026-07: created 2, skipped 0 already invoiced' });
    const created = first.data!.generateInvoices.invoices;
    expect(created.map((i) => i.organizationId).sort()).toEqual(input.organizationIds.sort());
    expect(created.find((i) => i.organizationId === platformId(orgs[0].id))).toMatchObject({ period: '2026-07', status: 'OPEN', plan: 'PRO', total: money(4_900 + 5 * 1_000) });

    const second = await h.execute(GenerateInvoices, { token: operator.token, variables: { input } });
    expect(second.data!.generateInvoices).toMatchObject({ created: 0, skipped: 2, summary: '2026-07: created 0, skipped 2 already invoiced', invoices: [] });
    expect(await h.system.prisma.platformAuditLog.findMany({ where: { actorUserId: operator.id, action: 'invoice.generate' }, orderBy: { createdAt: 'asc' } })).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: REASON, details: expect.objectContaining({ period: '2026-07', organizationIds: orgs.map((o) => o.id) }) })]),
    );

    const owner = await h.execute(GenerateInvoices, { token: orgs[0].owner.token, variables: { input } });
    expect(owner.errors).toEqual([expect.objectContaining({ message: 'Only platform operators may do this', extensions: { code: 'FORBIDDEN' } })]);

    for (const [period, message] of [
      ['2026-13', 'must be a month as YYYY-MM'],
      ['July', 'must be a month as YYYY-MM'],
      ['2999-01', '2999-01 has not ended yet: it can be invoiced from 2999-02-01'],
    ]) {
      const bad = await h.execute(GenerateInvoices, { token: operator.token, variables: { input: { ...input, period } } });
      expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0].extensions!.fields).toEqual([{ field: 'input.period', message: expect.stringContaining(message) }]);
    }
  });
});

describe('proration: each plan, seat count and add-on is charged for the days it was in force', () => {
  const OCTOBER_INVOICED = '2026-11-01T06:00:00.000Z';
  const NOVEMBER_INVOICED = '2026-12-01T06:00:00.000Z';

  it('records every change of what is billed in the changing transaction, by the database; never one that rolled back, never from the runtime role', async () => {
    const org = await customer('PRO');
    const states = () => h.system.prisma.subscriptionHistory.count({ where: { organizationId: org.id } });
    const before = await states();
    await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { plan: 'ENTERPRISE' } } });
    expect(await states()).toBe(before + 1);
    // Refused (fewer seats than members): the transaction rolls back, and its history row with it.
    const refused = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { plan: 'FREE', seats: 1 } } });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    // A change of nothing billed (paid_through) records nothing.
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { paidThrough: new Date() } });
    expect(await states()).toBe(before + 1);
    expect(await h.system.prisma.subscriptionHistory.findFirstOrThrow({ where: { organizationId: org.id }, orderBy: { id: 'desc' } })).toMatchObject({
      plan: 'ENTERPRISE',
      status: 'ACTIVE',
      seats: 5,
      addOns: [],
    });

    // The runtime role may read its organization's history (RLS) but write none of it.
    const runtime = new Client({ connectionString: h.runtimeUrl });
    await runtime.connect();
    try {
      await runtime.query('BEGIN');
      await runtime.query(`SET LOCAL app.current_org_id = '${org.id}'`);
      await expect(
        runtime.query(`INSERT INTO subscription_history (effective_at, plan, status, seats, add_ons) VALUES (now(), 'FREE', 'ACTIVE', 1, '{}')`),
      ).rejects.toMatchObject({ code: '42501' });
      await runtime.query('ROLLBACK');
    } finally {
      await runtime.end();
    }
  });

  it('invoices 20 days of ENTERPRISE then 11 of FREE when the organization downgrades before the invoice run', async () => {
    const org = await customer('ENTERPRISE');
    await changeAt(org, '2026-10-21T00:00:00Z', { plan: 'FREE' });
    expect(await subscriptionOf(org)).toMatchObject({ plan: 'FREE' }); // what the job sees when it runs
    const [bill] = (await invoice('2026-10', OCTOBER_INVOICED, [org])).created;
    // 49,900 × 20/31 = 32,193.5; 5 × 2,000 × 20/31 = 6,451.6
    expect(await linesOf(bill.id)).toEqual([
      'ENTERPRISE plan, 20 of 31 days: 32194',
      'FREE plan, 11 of 31 days: 0',
      'Seats (5) on ENTERPRISE, 20 of 31 days: 6452',
      'Seats (5) on FREE, 11 of 31 days: 0',
    ]);
    expect(bill).toMatchObject({ plan: 'FREE', totalMinor: 38_646n, status: 'OPEN' });
  });

  it('charges an add-on for the days it was on, and a plan held for an hour for that day', async () => {
    const addOn = await customer('PRO');
    await changeAt(addOn, '2026-10-11T00:00:00Z', { addOns: ['sso'] });
    await changeAt(addOn, '2026-10-16T12:00:00Z', { addOns: [] }); // on during October 11 to 16: 6 days
    const hour = await customer('PRO');
    await changeAt(hour, '2026-10-05T10:00:00Z', { plan: 'ENTERPRISE', addOns: ['priority-support'] });
    await changeAt(hour, '2026-10-05T11:00:00Z', { plan: 'PRO', addOns: [] });

    const run = await invoice('2026-10', OCTOBER_INVOICED, [addOn, hour]);
    const billOf = (org: TestOrganization) => run.created.find((i) => i.organizationId === org.id)!;
    // 4,900 × 6/31 = 948.4
    expect(await linesOf(billOf(addOn).id)).toEqual(['PRO plan: 4900', 'Seats (5): 5000', 'Single sign-on, 6 of 31 days: 948']);
    expect(billOf(addOn).totalMinor).toBe(10_848n);
    // October 5 is charged at the dearest plan in force that day, with the add-on it had.
    expect(await linesOf(billOf(hour).id)).toEqual([
      'PRO plan, 30 of 31 days: 4742',
      'ENTERPRISE plan, 1 of 31 days: 1610',
      'Seats (5) on PRO, 30 of 31 days: 4839',
      'Seats (5) on ENTERPRISE, 1 of 31 days: 323',
      'Priority support, 1 of 31 days: 319',
    ]);
    expect(billOf(hour).totalMinor).toBe(11_833n);
  });

  it('prices a change made after the previous invoice in the next one, and charges every day once across periods', async () => {
    const org = await customer('PRO');
    await changeAt(org, '2026-10-21T00:00:00Z', { plan: 'ENTERPRISE' });
    const [october] = (await invoice('2026-10', OCTOBER_INVOICED, [org])).created;
    expect(await linesOf(october.id)).toEqual([
      'PRO plan, 20 of 31 days: 3161',
      'ENTERPRISE plan, 11 of 31 days: 17706',
      'Seats (5) on PRO, 20 of 31 days: 3226',
      'Seats (5) on ENTERPRISE, 11 of 31 days: 3548',
    ]);
    expect(october.totalMinor).toBe(27_641n);

    // Back to PRO on November 10, after October was invoiced.
    await changeAt(org, '2026-11-10T00:00:00Z', { plan: 'PRO' });
    const [november] = (await invoice('2026-11', NOVEMBER_INVOICED, [org])).created;
    expect(await linesOf(november.id)).toEqual([
      'ENTERPRISE plan, 9 of 30 days: 14970',
      'PRO plan, 21 of 30 days: 3430',
      'Seats (5) on ENTERPRISE, 9 of 30 days: 3000',
      'Seats (5) on PRO, 21 of 30 days: 3500',
    ]);
    expect(november.totalMinor).toBe(24_900n);

    // October again: skipped, and its invoice unchanged.
    expect(describeInvoiceRun(await invoice('2026-10', NOVEMBER_INVOICED, [org]))).toBe('2026-10: created 0, skipped 1 already invoiced');
    expect(await h.system.prisma.invoice.findMany({ where: { organizationId: org.id }, orderBy: { period: 'asc' }, select: { totalMinor: true } })).toEqual([
      { totalMinor: 27_641n },
      { totalMinor: 24_900n },
    ]);
    // Every day of the two months charged one base plan: 31 + 30; ENTERPRISE from October 21 to November 9, 20 days.
    const days = (lines: string[], plan: string) =>
      lines.filter((line) => line.startsWith(`${plan} plan`)).reduce((sum, line) => sum + Number(/, (\d+) of/.exec(line)![1]), 0);
    const both = [...(await linesOf(october.id)), ...(await linesOf(november.id))];
    expect(days(both, 'ENTERPRISE')).toBe(20);
    expect(days(both, 'PRO')).toBe(41);
  });
});

describe('invoices', () => {
  it('lists the organization its own invoices, newest month first, to owners and admins only; the other organization never sees them', async () => {
    const [acme, globex] = [await customer(), await customer()];
    await invoice('2026-05', '2026-06-01T00:00:00Z', [acme, globex]);
    await invoice('2026-06', '2026-07-01T00:00:00Z', [acme]);
    await invoice('2026-07', '2026-08-01T00:00:00Z', [acme]);

    const page1 = await h.execute(InvoicesQuery, { token: acme.owner.token, variables: { first: 2 } });
    expect(page1.data!.invoices).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(page1.data!.invoices.edges.map((e) => e.node.period)).toEqual(['2026-07', '2026-06']);
    const page2 = await h.execute(InvoicesQuery, { token: acme.admin.token, variables: { first: 2, after: page1.data!.invoices.pageInfo.endCursor } });
    expect(page2.data!.invoices.edges.map((e) => e.node.period)).toEqual(['2026-05']);
    expect(page2.data!.invoices.pageInfo.hasNextPage).toBe(false);

    const globexView = await h.execute(InvoicesQuery, { token: globex.owner.token });
    expect(globexView.data!.invoices.edges.map((e) => e.node.period)).toEqual(['2026-05']);
    expect(globexView.data!.invoices.totalCount).toBe(1);

    const acmeInvoice = invoiceId((await invoiceOf(acme)).id);
    expect((await h.execute(InvoiceNode, { token: acme.owner.token, variables: { id: acmeInvoice } })).data!.node).toEqual({ id: acmeInvoice, period: '2026-07' });
    expect((await h.execute(InvoiceNode, { token: globex.owner.token, variables: { id: acmeInvoice } })).data!.node).toBeNull();
  });

  it('is FORBIDDEN to a member, and RLS hides invoices from members on every other path', async () => {
    const org = await customer();
    await invoice('2026-05', '2026-06-01T00:00:00Z', [org]);
    const response = await h.execute(InvoicesQuery, { token: org.member.token });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Requires the role OWNER or ADMIN', extensions: { code: 'FORBIDDEN' } })]);
    const id = invoiceId((await invoiceOf(org)).id);
    expect((await h.execute(InvoiceNode, { token: org.member.token, variables: { id } })).data!.node).toBeNull();

    const asMember = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.member.id, role: 'MEMBER' });
    const asOwner = createTenantClient(h.db.prisma, { organizationId: org.id, userId: org.owner.id, role: 'OWNER' });
    expect(await asMember.$queryRaw`SELECT id FROM invoices UNION ALL SELECT invoice_id FROM invoice_line_items`).toEqual([]);
    expect(await asOwner.invoiceLineItem.count()).toBe(2);
  });

  it('filters by status, and a page costs the same statements whatever its size', async () => {
    const org = await customer();
    await invoice('2026-04', '2026-05-01T00:00:00Z', [org]);
    const onePage = async () => {
      const before = h.db.statementCount();
      const response = await h.execute(InvoicesQuery, { token: org.owner.token, variables: { first: 10 } });
      return { statements: h.db.statementCount() - before, count: response.data!.invoices.edges.length };
    };
    // Once first, so that every measured request opens its transaction alike (the access check remembered).
    await onePage();
    const one = await onePage();
    await invoice('2026-03', '2026-04-01T00:00:00Z', [org]);
    await invoice('2026-02', '2026-03-01T00:00:00Z', [org]);
    const three = await onePage();
    expect([one.count, three.count]).toEqual([1, 3]);
    expect(three.statements).toBe(one.statements);

    const february = await h.system.prisma.invoice.findFirstOrThrow({ where: { organizationId: org.id, period: new Date('2026-02-01') } });
    await recordPayment(h.system, { invoiceId: february.id, amountMinor: february.totalMinor });
    const open = await h.execute(InvoicesQuery, { token: org.owner.token, variables: { status: 'OPEN' } });
    expect(open.data!.invoices.edges.map((e) => e.node.period)).toEqual(['2026-04', '2026-03']);
    const paid = await h.execute(InvoicesQuery, { token: org.owner.token, variables: { status: 'PAID' } });
    expect(paid.data!.invoices.edges.map((e) => e.node.period)).toEqual(['2026-02']);
  });
});

describe('recordPayment', () => {
  it('marks the invoice PAID, the subscription ACTIVE and paid through a month on; recorded with the reason', async () => {
    const org = await customer();
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { status: 'PAST_DUE' } });
    const { id, totalMinor } = await invoiceOf(org);

    const response = await h.execute(RecordPayment, { token: operator.token, variables: { input: { invoiceId: invoiceId(id), amount: Number(totalMinor), reason: REASON } } });
    expect(response.errors).toBeUndefined();
    const paid = response.data!.recordPayment;
    expect(paid).toMatchObject({ invoice: { id: invoiceId(id), status: 'PAID', total: money(9_900) }, subscriptionStatus: 'ACTIVE' });
    // From now: it had no paid_through.
    expect(new Date(paid.paidThrough)).toEqual(monthLater(new Date(paid.invoice.paidAt!)));
    expect(await subscriptionOf(org)).toMatchObject({ status: 'ACTIVE', paidThrough: new Date(paid.paidThrough) });
    expect(await h.system.prisma.invoice.findFirstOrThrow({ where: { id } })).toMatchObject({ status: 'PAID', paidMinor: totalMinor });
    expect(await h.system.prisma.platformAuditLog.findMany({ where: { actorUserId: operator.id, subjectOrganizationId: org.id } })).toEqual([
      expect.objectContaining({ action: 'invoice.pay', reason: REASON, details: expect.objectContaining({ invoiceId: id, period: '2026-06', amountMinor: 9_900 }) }),
    ]);
    expect((await h.execute(InvoicesQuery, { token: org.owner.token })).data!.invoices.edges[0].node).toMatchObject({ status: 'PAID', paidAt: paid.invoice.paidAt });
  });

  it('moves paid_through a month on from the current one when that is later than now', async () => {
    const org = await customer();
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { paidThrough: new Date('2027-01-31T12:00:00Z') } });
    const { id, totalMinor } = await invoiceOf(org);
    const outcome = await recordPayment(h.system, { invoiceId: id, amountMinor: totalMinor });
    expect(outcome).toMatchObject({ kind: 'paid', subscription: { status: 'ACTIVE', paidThrough: new Date('2027-02-28T12:00:00Z') } });
  });

  it('refuses another amount, an invoice paid before and an unknown invoice, changing nothing', async () => {
    const org = await customer();
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    const { id } = await invoiceOf(org);
    const pay = (amount: number, invoice = invoiceId(id)) => h.execute(RecordPayment, { token: operator.token, variables: { input: { invoiceId: invoice, amount, reason: REASON } } });

    const short = await pay(9_899);
    expect(errorCodes(short)).toEqual(['BAD_USER_INPUT']);
    expect(short.errors![0].extensions!.fields).toEqual([{ field: 'input.amount', message: 'must equal the invoice total, 9900 (USD minor units)' }]);
    expect(await invoiceOf(org)).toMatchObject({ status: 'OPEN', paidAt: null });

    await pay(9_900);
    const before = await subscriptionOf(org);
    const twice = await pay(9_900);
    expect(twice.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^The invoice for 2026-06 is already paid \(/), extensions: { code: 'FAILED_PRECONDITION' } })]);
    expect(await subscriptionOf(org)).toEqual(before);

    const missing = await pay(9_900, invoiceId(randomUUID()));
    expect(missing.errors).toEqual([expect.objectContaining({ message: 'Invoice not found', extensions: { code: 'NOT_FOUND' } })]);
    expect(await h.system.prisma.platformAuditLog.count({ where: { actorUserId: operator.id, subjectOrganizationId: org.id } })).toBe(1);
  });

  it('is FORBIDDEN to anyone but a platform operator', async () => {
    const org = await customer();
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    const { id } = await invoiceOf(org);
    const response = await h.execute(RecordPayment, { token: org.owner.token, variables: { input: { invoiceId: invoiceId(id), amount: 9_900, reason: REASON } } });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Only platform operators may do this', extensions: { code: 'FORBIDDEN' } })]);
    expect(await invoiceOf(org)).toMatchObject({ status: 'OPEN' });
  });

  it('leaves the subscription PAST_DUE while another invoice is still overdue', async () => {
    const org = await customer();
    await invoice('2026-05', '2026-06-01T00:00:00Z', [org]);
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    await markPastDue(h.system, new Date('2026-08-01T00:00:00Z'));
    const [june, may] = await h.system.prisma.invoice.findMany({ where: { organizationId: org.id }, orderBy: { period: 'desc' } });
    expect(await recordPayment(h.system, { invoiceId: june.id, amountMinor: june.totalMinor })).toMatchObject({ subscription: { status: 'PAST_DUE' } });
    expect(await recordPayment(h.system, { invoiceId: may.id, amountMinor: may.totalMinor })).toMatchObject({ subscription: { status: 'ACTIVE' } });
  });
});

describe('POST /webhooks/payments', () => {
  let clock = Date.now();
  let gateway: Gateway;
  beforeAll(() => {
    gateway = createGateway({
      db: h.db,
      system: h.system,
      verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
      paymentWebhookSecret: WEBHOOK_SECRET,
      now: () => clock,
      usage: false,
      logging: false,
      graphiql: false,
    });
  });
  afterAll(() => gateway.dispose());

  async function openInvoice() {
    const org = await customer();
    await invoice('2026-06', '2026-07-01T00:00:00Z', [org]);
    return { org, invoice: await invoiceOf(org) };
  }

  const payload = (id: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ invoiceId: invoiceId(id), amount: 9_900, currency: 'USD', timestamp: Math.floor(clock / 1000), ...fields });

  async function deliver(body: string, signature: string | null = signPaymentWebhook(WEBHOOK_SECRET, body), method = 'POST') {
    const response = await gateway.fetch('http://tenantgate.test/webhooks/payments', {
      method,
      headers: { 'content-type': 'application/json', ...(signature ? { [PAYMENT_SIGNATURE_HEADER]: signature } : {}) },
      body: method === 'POST' ? body : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('pays the invoice with a valid signature; a redelivery is 200 and changes nothing', async () => {
    const { org, invoice: open } = await openInvoice();
    clock = Date.now();
    const body = payload(open.id);
    const first = await deliver(body);
    expect(first).toEqual({ status: 200, body: expect.objectContaining({ status: 'PAID', alreadyPaid: false, subscriptionStatus: 'ACTIVE' }) });
    const paid = await invoiceOf(org);
    expect(paid).toMatchObject({ status: 'PAID', paidMinor: 9_900n, paidAt: new Date(clock) });
    const subscription = await subscriptionOf(org);
    expect(subscription).toMatchObject({ status: 'ACTIVE', paidThrough: monthLater(new Date(clock)) });

    expect(await deliver(body)).toEqual({ status: 200, body: { status: 'PAID', alreadyPaid: true } });
    expect(await subscriptionOf(org)).toEqual(subscription);
  });

  it.each([
    ['a signature with another secret', (body: string) => signPaymentWebhook('another-secret', body)],
    ['no signature', () => null],
    ['a malformed signature', () => 'sha256=zz'],
    ['a signature of another body', (body: string) => signPaymentWebhook(WEBHOOK_SECRET, body.replace('9900', '1'))],
  ])('answers 401 to %s, and changes nothing', async (_, sign) => {
    const { org, invoice: open } = await openInvoice();
    const body = payload(open.id);
    expect(await deliver(body, sign(body))).toEqual({ status: 401, body: { error: 'Invalid signature' } });
    expect(await invoiceOf(org)).toMatchObject({ status: 'OPEN', paidAt: null });
    expect(await subscriptionOf(org)).toMatchObject({ status: 'ACTIVE', paidThrough: null });
  });

  it('answers 401 to a correctly signed but stale (replayed) delivery, and changes nothing', async () => {
    const { org, invoice: open } = await openInvoice();
    const body = payload(open.id, { timestamp: Math.floor(clock / 1000) - 301 });
    expect(await deliver(body)).toEqual({ status: 401, body: { error: 'Stale timestamp: more than 300 seconds from now' } });
    expect(await invoiceOf(org)).toMatchObject({ status: 'OPEN' });
  });

  it('answers 409 to an amount that is not the total, 404 to an unknown invoice, 400 to a bad body, 405 to GET', async () => {
    const { org, invoice: open } = await openInvoice();
    expect(await deliver(payload(open.id, { amount: 100 }))).toEqual({ status: 409, body: { error: 'amount must equal the invoice total, 9900 (USD minor units)' } });
    expect(await deliver(payload(open.id, { currency: 'EUR' }))).toMatchObject({ status: 409 });
    expect(await deliver(payload(randomUUID()))).toEqual({ status: 404, body: { error: 'Invoice not found' } });
    expect(await deliver(payload(open.id, { amount: '9900' }))).toMatchObject({ status: 400, body: { fields: [expect.objectContaining({ field: 'amount' })] } });
    expect(await deliver('not json')).toMatchObject({ status: 400 });
    expect(await deliver('', null, 'GET')).toMatchObject({ status: 405 });
    expect(await invoiceOf(org)).toMatchObject({ status: 'OPEN' });
  });

  it('does not exist without PAYMENT_WEBHOOK_SECRET', async () => {
    const response = await h.gateway.fetch('http://tenantgate.test/webhooks/payments', { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});

describe('past due', () => {
  it('turns PAST_DUE a subscription with an OPEN invoice past its due date, and leaves the others', async () => {
    const [overdue, dueToday, paid, clean] = [await customer(), await customer(), await customer(), await customer()];
    await invoice('2026-05', '2026-06-01T00:00:00Z', [overdue, paid]); // due 2026-06-16
    await invoice('2026-05', '2026-06-02T00:00:00Z', [dueToday]); // due 2026-06-17
    const paidInvoice = await invoiceOf(paid);
    await recordPayment(h.system, { invoiceId: paidInvoice.id, amountMinor: paidInvoice.totalMinor });

    const changed = await markPastDue(h.system, new Date('2026-06-17T23:00:00Z'));
    expect(changed).toContain(overdue.id);
    for (const org of [dueToday, paid, clean]) expect(changed).not.toContain(org.id);
    expect((await subscriptionOf(overdue)).status).toBe('PAST_DUE');
    for (const org of [dueToday, paid, clean]) expect((await subscriptionOf(org)).status).toBe('ACTIVE');

    // Again: nothing more.
    expect(await markPastDue(h.system, new Date('2026-06-17T23:00:00Z'))).not.toContain(overdue.id);
  });

  it('never undoes a payment that commits while it runs', async () => {
    const org = await customer();
    await invoice('2026-05', '2026-06-01T00:00:00Z', [org]);
    const { id, totalMinor } = await invoiceOf(org);
    const cron = createSystemDatabase(h.adminUrl);
    let locked!: () => void;
    let release!: () => void;
    const lockedYet = new Promise<void>((resolve) => (locked = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    try {
      // A payment caught between its invoice update and its COMMIT.
      const paying = h.system.prisma.$transaction(async (tx) => {
        await tx.invoice.update({ where: { organizationId_id: { organizationId: org.id, id } }, data: { status: 'PAID', paidAt: new Date(), paidMinor: totalMinor } });
        await tx.subscription.update({ where: { organizationId: org.id }, data: { status: 'ACTIVE' } });
        locked();
        await gate;
      });
      await lockedYet;
      const marking = markPastDue(cron, new Date('2026-07-01T00:00:00Z'));
      await waitingForLock("%SET status = 'PAST_DUE'%", 'markPastDue never waited for the payment');
      release();
      await paying;
      expect(await marking).not.toContain(org.id);
    } finally {
      await cron.close();
    }
    expect((await subscriptionOf(org)).status).toBe('ACTIVE');
  });

  it('is a platform operator mutation too, recorded with the reason', async () => {
    const org = await customer();
    await invoice('2026-05', '2026-06-01T00:00:00Z', [org]);
    const response = await h.execute(MarkPastDue, { token: operator.token, variables: { input: { reason: REASON } } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.markPastDue.organizationIds).toContain(platformId(org.id));
    expect((await subscriptionOf(org)).status).toBe('PAST_DUE');
    expect(await h.system.prisma.platformAuditLog.findFirst({ where: { actorUserId: operator.id, action: 'subscription.mark_past_due' } })).toMatchObject({ reason: REASON });

    const owner = await h.execute(MarkPastDue, { token: org.owner.token, variables: { input: { reason: REASON } } });
    expect(errorCodes(owner)).toEqual(['FORBIDDEN']);
  });
});

describe('npm run billing:invoice', () => {
  const run = promisify(execFile);
  const root = path.join(__dirname, '..');
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  const script = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(tsx, ['scripts/billing-jobs.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', DATABASE_ADMIN_URL: '', ...env } });

  it.each([
    [['--period', '2026-13'], /--period must be a month as YYYY-MM, e\.g\. \d{4}-\d\d; got "2026-13"/],
    [['--period', '2999-01'], /--period 2999-01 has not ended yet: it can be invoiced from 2999-02-01/],
    [['--month', '2026-10'], /Unknown option '--month'/],
  ])('refuses %j with a clear error, before connecting to anything', async (args, message) => {
    await expect(script(['invoice', ...args])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
  });

  it('invoices a month through DATABASE_ADMIN_URL and says what it did', async () => {
    const { stdout } = await script(['invoice', '--period', '2019-12'], { DATABASE_URL: h.runtimeUrl, DATABASE_ADMIN_URL: h.adminUrl, JWT_SECRET: TEST_SECRET });
    // Every organization of the suite is younger than December 2019.
    expect(stdout).toMatch(/^Invoiced 2019-12: created 0, skipped 0 already invoiced\.\nPast due: \d+ subscriptions? turned PAST_DUE/);
  });
});
