import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { createTenantClient } from '../src/db/tenant';
import { dayDate, monthEnd, monthStart, utcDay } from '../src/usage/days';
import { createUsageRecorder, type Queryable } from '../src/usage/recorder';
import { quotaMonth } from '../src/usage/api-calls-quota';
import { createGateway } from '../src/yoga';
import { errorCodes, TEST_SECRET, type Harness, type TestOrganization, platformId } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { OPEN_READ, summarizeStatements } from './helpers/statements';
import type { UsagePeriod } from './gql/graphql';
import { PlatformUsageQuery, UsageQuery, ViewerRoleQuery } from './usage.operations';

/**
 * Usage tracking through the GraphQL endpoint: what the plugin counts, what the
 * recorder writes (flushed by hand here: the harness's recorder has no timer),
 * what `usage` and `platformUsage` report, and the API_CALLS quota, as two
 * organizations, both sides asserted.
 */

let h: Harness;
let statements: string[] = [];
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test', onStatement: (sql) => statements.push(sql) }, (f) => ({ h, acme, globex } = f));

const CURRENT_MONTH = { preset: 'CURRENT_MONTH' } as const;
const REASON = 'ticket #4: usage question';
const GB = 1024 ** 3;
const HOUR_MS = 3_600_000;

const day = (date: Date) => utcDay(date.getTime());

async function usage(token: string, period: UsagePeriod = CURRENT_MONTH) {
  const response = await h.execute(UsageQuery, { token, variables: { period } });
  expect(response.errors).toBeUndefined();
  return response.data!.usage;
}

/** What usage_daily holds for the organization, read past RLS. */
async function written(organizationId: string) {
  const { _sum } = await h.system.prisma.usageDaily.aggregate({ where: { organizationId }, _sum: { apiCalls: true, bandwidthBytes: true, computeMs: true } });
  return { apiCalls: Number(_sum.apiCalls ?? 0), bandwidthBytes: Number(_sum.bandwidthBytes ?? 0), computeMs: Number(_sum.computeMs ?? 0) };
}


describe('counting through the GraphQL endpoint', () => {
  it('counts operations, response bytes (the Content-Length), execution time and distinct users per organization', async () => {
    let bytes = 0;
    for (const token of [acme.member.token, acme.member.token, acme.member.token, acme.owner.token]) {
      const response = await h.request(ViewerRoleQuery, { token });
      const body = await response.text();
      expect(response.status).toBe(200);
      // Yoga's fetch API sets Content-Length on regular JSON responses; it is the body's size in bytes.
      expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(body));
      bytes += Buffer.byteLength(body);
    }
    await h.execute(ViewerRoleQuery, { token: globex.owner.token });
    expect(await written(acme.id)).toEqual({ apiCalls: 0, bandwidthBytes: 0, computeMs: 0 });
    await h.usage.flush();

    const report = await usage(acme.owner.token);
    // The `usage` query itself is counted once it has been answered: from the next flush on.
    expect(report).toMatchObject({ apiCalls: 4, bandwidth: bytes, activeUsers: 2, storage: 0 });
    expect(report.computeTime).toBeGreaterThanOrEqual(0);
    expect(report.period).toEqual({ from: day(monthStart(Date.now())), to: day(monthEnd(Date.now())) });
    expect(await written(acme.id)).toMatchObject({ apiCalls: 4, bandwidthBytes: bytes });

    await h.usage.flush();
    expect((await usage(acme.owner.token)).apiCalls).toBe(5);
    expect(await h.system.prisma.usageActiveUser.findMany({ where: { organizationId: acme.id }, select: { userId: true }, orderBy: { userId: 'asc' } })).toEqual(
      [acme.member.id, acme.owner.id].sort().map((userId) => ({ userId })),
    );
  });

  it('counts the bytes of a streamed (SSE) response, which has no Content-Length, as they go out', async () => {
    const response = await h.request(ViewerRoleQuery, { token: acme.member.token, headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('content-length')).toBeNull();
    const body = await response.text();
    expect(body).toContain('"role":"MEMBER"');
    await h.usage.flush();
    expect(await written(acme.id)).toMatchObject({ apiCalls: 1, bandwidthBytes: Buffer.byteLength(body) });
  });

  it('does not count anonymous introspection, refused requests or a support session', async () => {
    const operator = await h.createPlatformOperator();
    const support = await h.token(operator.id, acme.id, { extraClaims: { platform: true, support: true } });
    expect((await h.execute('{ __schema { queryType { name } } }')).status).toBe(200);
    expect((await h.execute(ViewerRoleQuery, { token: await h.token(globex.owner.id, acme.id) })).status).toBe(403);
    expect((await h.execute(ViewerRoleQuery, { token: support })).data?.viewer.role).toBe('ADMIN');
    await h.usage.flush();
    expect(await written(acme.id)).toEqual({ apiCalls: 0, bandwidthBytes: 0, computeMs: 0 });
    expect(await written(globex.id)).toEqual({ apiCalls: 0, bandwidthBytes: 0, computeMs: 0 });
  });
});

describe('usage is tenant data', () => {
  it('each organization sees only its own, and RLS hides the other\'s rows', async () => {
    for (let i = 0; i < 3; i += 1) await h.execute(ViewerRoleQuery, { token: acme.member.token });
    await h.execute(ViewerRoleQuery, { token: globex.member.token });
    await h.usage.flush();

    expect(await usage(acme.owner.token)).toMatchObject({ apiCalls: 3, activeUsers: 1 });
    expect(await usage(globex.owner.token)).toMatchObject({ apiCalls: 1, activeUsers: 1 });

    const asGlobex = createTenantClient(h.db.prisma, { organizationId: globex.id });
    expect(await asGlobex.usageDaily.findMany({ where: { organizationId: acme.id } })).toEqual([]);
    expect(await asGlobex.usageActiveUser.count({ where: { organizationId: acme.id } })).toBe(0);
    expect(await asGlobex.usageDaily.count()).toBe(1);
    const asAcme = createTenantClient(h.db.prisma, { organizationId: acme.id });
    expect(await asAcme.usageDaily.findMany({ where: { organizationId: acme.id }, select: { apiCalls: true } })).toEqual([{ apiCalls: 3n }]);
  });
});

describe('periods', () => {
  const now = Date.now();
  const lastMonthFirst = monthStart(now, -1);
  const lastMonthLast = monthEnd(now, -1);
  const twoMonthsAgo = monthStart(now, -2);

  beforeEach(async () => {
    const rows = [
      [twoMonthsAgo, 1000],
      [lastMonthFirst, 10],
      [lastMonthLast, 20],
      [monthStart(now), 300],
    ] as const;
    await h.system.prisma.usageDaily.createMany({
      data: rows.map(([date, calls]) => ({ organizationId: acme.id, day: date, apiCalls: calls, bandwidthBytes: calls * 100, computeMs: calls * 2 })),
    });
    await h.system.prisma.usageActiveUser.createMany({
      data: [
        { organizationId: acme.id, day: lastMonthFirst, userId: acme.owner.id },
        { organizationId: acme.id, day: lastMonthLast, userId: acme.owner.id },
        { organizationId: acme.id, day: lastMonthLast, userId: acme.member.id },
        { organizationId: acme.id, day: twoMonthsAgo, userId: acme.admin.id },
      ],
    });
  });

  it('LAST_MONTH is the previous calendar month (UTC), first to last day', async () => {
    expect(await usage(acme.owner.token, { preset: 'LAST_MONTH' })).toMatchObject({
      period: { from: day(lastMonthFirst), to: day(lastMonthLast) },
      apiCalls: 30,
      bandwidth: 3000,
      computeTime: 60,
      activeUsers: 2,
    });
    expect(await usage(globex.owner.token, { preset: 'LAST_MONTH' })).toMatchObject({ apiCalls: 0, activeUsers: 0 });
  });

  it('a range counts its days, both included', async () => {
    const range = { from: day(twoMonthsAgo), to: day(lastMonthFirst) };
    expect(await usage(acme.owner.token, { range })).toMatchObject({ period: range, apiCalls: 1010, activeUsers: 2 });
    const oneDay = { from: day(lastMonthLast), to: day(lastMonthLast) };
    expect(await usage(acme.owner.token, { range: oneDay })).toMatchObject({ period: oneDay, apiCalls: 20, activeUsers: 2 });
  });

  it.each([
    ['to before from', { from: '2026-03-02', to: '2026-03-01' }, 'must not be before from'],
    ['more than 366 days', { from: '2025-01-01', to: '2026-01-02' }, 'must be at most 365 days after from: a range covers at most 366 days'],
  ])('refuses a range with %s: BAD_USER_INPUT naming the field', async (_, range, message) => {
    const response = await h.execute(UsageQuery, { token: acme.owner.token, variables: { period: { range } } });
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'period.range.to', message }]);
  });

  it('accepts exactly 366 days', async () => {
    expect((await usage(acme.owner.token, { range: { from: '2025-01-01', to: '2026-01-01' } })).period).toEqual({ from: '2025-01-01', to: '2026-01-01' });
  });

  it('refuses both a preset and a range, or neither, and a day that is not a date: BAD_USER_INPUT', async () => {
    const both = await h.execute(UsageQuery, { token: acme.owner.token, variables: { period: { preset: 'LAST_MONTH', range: { from: '2026-01-01', to: '2026-01-02' } } as never } });
    expect(errorCodes(both)).toEqual(['BAD_USER_INPUT']);
    const inline = await h.execute('{ usage(period: {}) { apiCalls } }', { token: acme.owner.token });
    expect(errorCodes(inline)).toEqual(['BAD_USER_INPUT']);
    expect(inline.errors?.[0].message).toMatch(/^"period": OneOf Input Object "UsagePeriod" must specify exactly one key/);
    const inlineNull = await h.execute('{ usage(period: { preset: null }) { apiCalls } }', { token: acme.owner.token });
    expect(errorCodes(inlineNull)).toEqual(['BAD_USER_INPUT']);
    expect(inlineNull.errors?.[0].message).toMatch(/^"period": Field "UsagePeriod\.preset" must be non-null/);
    const badDay = await h.execute(UsageQuery, { token: acme.owner.token, variables: { period: { range: { from: '2026-02-30', to: '2026-03-01' } } } });
    expect(errorCodes(badDay)).toEqual(['BAD_USER_INPUT']);
    expect(badDay.status).toBe(400);
  });
});

describe('estimatedCost', () => {
  it('is 0 on FREE', async () => {
    await h.system.prisma.usageDaily.create({ data: { organizationId: acme.id, day: monthStart(Date.now()), bandwidthBytes: 5 * GB, computeMs: 5 * HOUR_MS } });
    expect((await usage(acme.owner.token)).estimatedCost).toEqual({ amountMinor: 0, currency: 'USD' });
  });

  it('is the base plan and its seats on PRO, and adds overage beyond the month\'s allowance', async () => {
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { plan: 'PRO', seats: 3 } });
    // PRO: 49.00 base, 10.00 a seat; 100 GB and 10 compute hours included, then 0.10 a GB and 2.00 an hour started.
    expect((await usage(acme.owner.token)).estimatedCost).toEqual({ amountMinor: 4900 + 3 * 1000, currency: 'USD' });
    await h.system.prisma.usageDaily.create({
      data: { organizationId: acme.id, day: dayDate(utcDay(Date.now())), bandwidthBytes: 100 * GB + 1, computeMs: 10 * HOUR_MS + 1 },
    });
    expect((await usage(acme.owner.token)).estimatedCost).toEqual({ amountMinor: 4900 + 3 * 1000 + 10 + 200, currency: 'USD' });
    // The same usage last month: nothing of it in this month's estimate, all of it in last month's.
    expect((await usage(acme.owner.token, { preset: 'LAST_MONTH' })).estimatedCost.amountMinor).toBe(7900);
  });
});

describe('the API_CALLS quota', () => {
  const limitApiCalls = (organizationId: string, limit: number | null) =>
    h.system.prisma.quotaOverride.create({ data: { organizationId, resource: 'API_CALLS', limit } });

  it('refuses requests past the monthly limit with 429 QUOTA_EXCEEDED, Retry-After and resetAt; another organization is unaffected', async () => {
    await limitApiCalls(acme.id, 3);
    for (let i = 0; i < 3; i += 1) expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);

    const before = Date.now();
    const refused = await h.request(ViewerRoleQuery, { token: acme.member.token });
    const resetAt = monthStart(before, 1);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(retryAfter - (resetAt.getTime() - before) / 1000)).toBeLessThan(5);
    expect(await refused.json()).toEqual({
      errors: [
        {
          message: `API call limit reached (3 this month). It resets at ${resetAt.toISOString()}; upgrade for more.`,
          extensions: { code: 'QUOTA_EXCEEDED', resource: 'API_CALLS', limit: 3, used: 3, resetAt: resetAt.toISOString() },
        },
      ],
    });
    expect((await h.execute(ViewerRoleQuery, { token: globex.member.token })).status).toBe(200);

    // Written or not, the calls count; the refused ones do not.
    await h.usage.flush();
    expect((await h.execute(ViewerRoleQuery, { token: acme.owner.token })).status).toBe(429);
    await h.usage.flush();
    expect(await written(acme.id)).toMatchObject({ apiCalls: 3 });
  });

  it('counts this month only, and an override of null is unlimited', async () => {
    await limitApiCalls(acme.id, 2);
    await h.system.prisma.usageDaily.create({ data: { organizationId: acme.id, day: monthStart(Date.now(), -1), apiCalls: 50 } });
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);
    await h.system.prisma.usageDaily.create({ data: { organizationId: acme.id, day: monthStart(Date.now()), apiCalls: 1 } });
    // Written behind the gateway's back (as another process would): a member without a cached
    // access check reads it at once; the member above within ACCESS_CACHE_MAX_AGE_MS (access-cache.test.ts).
    expect((await h.execute(ViewerRoleQuery, { token: acme.admin.token })).status).toBe(429);

    await h.system.prisma.quotaOverride.update({ where: { organizationId_resource: { organizationId: acme.id, resource: 'API_CALLS' } }, data: { limit: null } });
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);
  });

  it('applies the plan\'s limit without an override (FREE: 1,000 a month)', async () => {
    await h.system.prisma.usageDaily.create({ data: { organizationId: acme.id, day: monthStart(Date.now()), apiCalls: 999 } });
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);
    const refused = await h.execute(ViewerRoleQuery, { token: acme.member.token });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 1000, used: 1000 });
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { plan: 'ENTERPRISE' } });
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);
  });

  it('costs no statement: a request, served or refused, sends the access query and ends its transaction (a refusal is audited after its response)', async () => {
    await limitApiCalls(acme.id, 1);
    statements = [];
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(200);
    expect(summarizeStatements(statements)).toEqual([OPEN_READ, 'COMMIT']);
    statements = [];
    expect((await h.execute(ViewerRoleQuery, { token: acme.member.token })).status).toBe(429);
    // The refusal is recorded after the response, in one statement of its own (docs/adr/0061-access-denials.md).
    await h.denials.settled();
    expect(summarizeStatements(statements)).toEqual([OPEN_READ, 'ROLLBACK', 'SELECT']);
    expect(statements[statements.length - 1]).toContain('app.record_access_denials');
    statements = [];
    expect((await h.execute(ViewerRoleQuery, { token: globex.member.token })).status).toBe(200);
    expect(summarizeStatements(statements)).toEqual([OPEN_READ, 'COMMIT']);
  });

  it('does not refuse a support session', async () => {
    await limitApiCalls(acme.id, 0);
    expect((await h.execute(ViewerRoleQuery, { token: acme.owner.token })).status).toBe(429);
    const operator = await h.createPlatformOperator();
    const support = await h.token(operator.id, acme.id, { extraClaims: { platform: true, support: true } });
    expect((await h.execute(ViewerRoleQuery, { token: support })).status).toBe(200);
  });

  it('is off, with counting, in a gateway created with usage: false', async () => {
    await limitApiCalls(acme.id, 0);
    const gateway = createGateway({ db: h.db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false });
    const response = await gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.member.token}` },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect(await response.json()).toEqual({ data: { viewer: { role: 'MEMBER' } } });
    await gateway.dispose();
    await h.usage.flush();
    expect(await written(acme.id)).toMatchObject({ apiCalls: 0 });
  });
});

describe('the recorder', () => {
  const month = quotaMonth(Date.now());

  /** A pool that can be swapped: first a closed one, then the harness's. Records each organization's payload, and the messages that carried them. */
  function switchablePool(first: Queryable) {
    const sent: { counters: { organization_id: string; api_calls: number }[]; activeUsers: unknown[] }[] = [];
    const messages: { organizations: number; text: string }[] = [];
    const target = { pool: first };
    const pool: Queryable = {
      connect: async () => {
        const connection = await target.pool.connect();
        return {
          escapeLiteral: (value: string) => connection.escapeLiteral(value),
          release: (destroy?: boolean | Error) => connection.release(destroy),
          query: (text: string) => {
            const payloads = [...text.matchAll(/app\.record_usage\('((?:[^']|'')*)'::jsonb\)/g)].map((match) => JSON.parse(match[1].replace(/''/g, "'")));
            sent.push(...payloads);
            if (payloads.length > 0) messages.push({ organizations: payloads.length, text });
            return connection.query(text);
          },
        };
      },
    };
    return { pool, sent, messages, target };
  }

  async function closedPool() {
    const db = createDatabase({ url: h.runtimeUrl, max: 1 });
    await db.close();
    return db.pool;
  }

  it('keeps the counts of a failed flush and writes them with the next one', async () => {
    const { pool, target } = switchablePool(await closedPool());
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: Infinity });
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 2, bandwidthBytes: 100, computeMs: 1.4 });
    await expect(recorder.flush()).rejects.toThrow(/pool/i);
    expect(recorder.unflushedApiCalls(acme.id, month.from)).toBe(2);
    expect(await written(acme.id)).toEqual({ apiCalls: 0, bandwidthBytes: 0, computeMs: 0 });

    target.pool = h.db.pool;
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 1, bandwidthBytes: 50, computeMs: 0.2 });
    await recorder.flush();
    expect(recorder.unflushedApiCalls(acme.id, month.from)).toBe(0);
    expect(await written(acme.id)).toEqual({ apiCalls: 3, bandwidthBytes: 150, computeMs: 2 });
    expect(await h.system.prisma.usageActiveUser.count({ where: { organizationId: acme.id } })).toBe(1);
    await recorder.close();
  });

  it('survives a failing timer flush (onError, counts kept) and reports what close() could not write', async () => {
    const onError = jest.fn();
    const recorder = createUsageRecorder({ pool: await closedPool(), flushIntervalMs: 10, onError });
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 4, bandwidthBytes: 1, computeMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(onError).toHaveBeenCalledWith(expect.any(Error), { lostApiCalls: 0, keptApiCalls: 4, failedOrganizations: 1 });
    expect(recorder.unflushedApiCalls(acme.id, month.from)).toBe(4);
    onError.mockClear();
    await expect(recorder.close()).resolves.toBeUndefined();
    expect(onError).toHaveBeenCalledWith(expect.any(Error), expect.objectContaining({ lostApiCalls: 4 }));
  });

  it('writes the organizations of a flush in one transaction, each under its own scope, early after flushEveryCalls, and a user once a day', async () => {
    const { pool, sent, messages } = switchablePool(h.db.pool);
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: 3 });
    const call = (org: TestOrganization) => recorder.record({ organizationId: org.id, userId: org.member.id, apiCalls: 1, bandwidthBytes: 10, computeMs: 1 });
    call(acme);
    call(globex);
    expect(sent).toHaveLength(0);
    call(acme);
    await recorder.flush(); // joins the early flush that the third call started
    expect(sent).toHaveLength(2);
    // One message, one transaction: each organization's counts follow the SET LOCAL that scopes them.
    expect(messages).toHaveLength(1);
    const [first, second] = [acme.id, globex.id].sort();
    expect(sent.map((p) => p.counters.map((c) => c.organization_id))).toEqual([[first], [second]]);
    expect(messages[0].text).toMatch(new RegExp(`^BEGIN; SET LOCAL app.current_org_id = '${first}'; SELECT app.record_usage\\('[^']*${first}.*'::jsonb\\); SET LOCAL app.current_org_id = '${second}'; SELECT app.record_usage\\('[^']*${second}[^']*'::jsonb\\); COMMIT$`));
    expect(sent.map((p) => p.activeUsers.length)).toEqual([1, 1]);

    call(acme);
    await recorder.flush();
    expect(sent[2]).toEqual({ counters: [expect.objectContaining({ organization_id: acme.id, api_calls: 1 })], activeUsers: [] });
    await recorder.flush();
    expect(sent).toHaveLength(3); // nothing pending, no statement
    expect(await written(acme.id)).toMatchObject({ apiCalls: 3 });
    expect(await written(globex.id)).toMatchObject({ apiCalls: 1 });
    await recorder.close();
  });

  it('keeps the counts of a transaction whose connection fails mid-flush, and drops that connection', async () => {
    const released: unknown[] = [];
    let failing = true;
    const pool: Queryable = {
      connect: async () => {
        const connection = await h.db.pool.connect();
        return {
          escapeLiteral: (value: string) => connection.escapeLiteral(value),
          release: (destroy?: boolean | Error) => {
            released.push(destroy);
            connection.release(destroy);
          },
          // As a connection reset: the message and the ROLLBACK after it both fail.
          query: (text: string) => (failing ? Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })) : connection.query(text)),
        };
      },
    };
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: Infinity });
    const [a, g] = [await written(acme.id), await written(globex.id)];
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 3, bandwidthBytes: 0, computeMs: 0 });
    recorder.record({ organizationId: globex.id, userId: globex.member.id, apiCalls: 4, bandwidthBytes: 0, computeMs: 0 });
    await expect(recorder.flush()).rejects.toMatchObject({ code: 'ECONNRESET', usageFailure: { lostApiCalls: 0, keptApiCalls: 7, failedOrganizations: 2 } });
    expect(released).toEqual([true]);
    failing = false;
    await recorder.flush();
    expect([(await written(acme.id)).apiCalls - a.apiCalls, (await written(globex.id)).apiCalls - g.apiCalls]).toEqual([3, 4]);
    await recorder.close();
  });

  it('bounds the organizations per transaction (organizationsPerTransaction)', async () => {
    const { pool, messages } = switchablePool(h.db.pool);
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: Infinity, organizationsPerTransaction: 2 });
    const orgs = [acme, globex, await h.createOrganization()];
    const before = await Promise.all(orgs.map((org) => written(org.id)));
    for (const org of orgs) recorder.record({ organizationId: org.id, userId: org.member.id, apiCalls: 2, bandwidthBytes: 0, computeMs: 0 });
    await recorder.flush();
    expect(messages.map((m) => m.organizations)).toEqual([2, 1]);
    expect((await Promise.all(orgs.map((org) => written(org.id)))).map((w, i) => w.apiCalls - before[i].apiCalls)).toEqual([2, 2, 2]);
    await recorder.close();
  });
});

describe('platformUsage', () => {

  it('shows a platform operator any organization\'s usage, recorded in the audit log with the reason', async () => {
    const operator = await h.createPlatformOperator();
    await h.execute(ViewerRoleQuery, { token: acme.member.token });
    await h.usage.flush();
    const range = { from: day(monthStart(Date.now())), to: utcDay(Date.now()) };
    const response = await h.execute(PlatformUsageQuery, { token: operator.token, variables: { organizationId: platformId(acme.id), period: { range }, reason: REASON } });
    expect(response.errors).toBeUndefined();
    expect(response.data?.platformUsage).toMatchObject({ period: range, apiCalls: 1, activeUsers: 1, estimatedCost: { amountMinor: 0, currency: 'USD' } });
    const other = await h.execute(PlatformUsageQuery, { token: operator.token, variables: { organizationId: platformId(globex.id), period: CURRENT_MONTH, reason: REASON } });
    expect(other.data?.platformUsage.apiCalls).toBe(0);
    expect(await h.system.prisma.platformAuditLog.findMany({ where: { actorUserId: operator.id }, orderBy: { createdAt: 'asc' } })).toEqual([
      expect.objectContaining({ action: 'usage.read', subjectOrganizationId: acme.id, reason: REASON, details: expect.objectContaining(range) }),
      expect.objectContaining({ action: 'usage.read', subjectOrganizationId: globex.id, reason: REASON }),
    ]);
  });

  it('is FORBIDDEN to an organization owner; NOT_FOUND for a missing organization, recording nothing', async () => {
    const asOwner = await h.execute(PlatformUsageQuery, { token: acme.owner.token, variables: { organizationId: platformId(acme.id), period: CURRENT_MONTH, reason: REASON } });
    expect(asOwner.status).toBe(403);
    expect(errorCodes(asOwner)).toEqual(['FORBIDDEN']);
    expect(asOwner.data).toBeNull();

    const operator = await h.createPlatformOperator();
    const missing = await h.execute(PlatformUsageQuery, { token: operator.token, variables: { organizationId: platformId(randomUUID()), period: CURRENT_MONTH, reason: REASON } });
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    const malformed = await h.execute(PlatformUsageQuery, { token: operator.token, variables: { organizationId: encodeGlobalID('Organization', acme.id), period: CURRENT_MONTH, reason: REASON } });
    expect(malformed.errors?.[0].extensions?.fields).toEqual([{ field: 'organizationId', message: 'is not a PlatformOrganization ID' }]);
    expect(await h.system.prisma.platformAuditLog.count({ where: { actorUserId: operator.id } })).toBe(0);
  });
});
