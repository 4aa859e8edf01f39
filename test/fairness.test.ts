import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { OrganizationConcurrency } from '../src/limits/concurrency';
import { RefusalAllowance } from '../src/limits/refusal-allowance';
import { createGateway } from '../src/yoga';
import { errorCodes, TEST_SECRET, testUrls, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * Fairness between tenants (issue 13): the per-organization concurrency limit
 * (queue, then 429 TOO_MANY_CONCURRENT_REQUESTS with Retry-After, the other
 * organization unaffected), the statement and idle-in-transaction timeouts of
 * the runtime pool, and the response size limit.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));

describe('OrganizationConcurrency', () => {
  it('admits `limit` at once, queues the rest in order, and refuses past the queue', async () => {
    const limiter = new OrganizationConcurrency({ limit: 2, queue: 1, maxWaitMs: 1_000 });
    const first = await limiter.acquire('a');
    await limiter.acquire('a');
    const other = await limiter.acquire('b'); // another organization is not affected
    const queued = limiter.acquire('a');
    await expect(limiter.acquire('a')).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_CONCURRENT_REQUESTS', limit: 2, http: { status: 429, headers: { 'Retry-After': '1' } } } });
    first();
    first(); // a second release changes nothing
    await queued;
    expect(limiter.running('a')).toBe(2);
    other();
    expect(limiter.running('b')).toBe(0);
  });

  it('gives up a waiter after maxWaitMs, and one whose request was aborted', async () => {
    const limiter = new OrganizationConcurrency({ limit: 1, queue: 5, maxWaitMs: 50 });
    await limiter.acquire('a');
    await expect(limiter.acquire('a')).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_CONCURRENT_REQUESTS' } });
    const abort = new AbortController();
    const waiting = limiter.acquire('a', abort.signal);
    abort.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(limiter.running('a')).toBe(1);
  });
});

describe('through the gateway', () => {
  it('holds one organization to its limit while another is served at once', async () => {
    const db = createDatabase({ url: testUrls().runtimeUrl, max: 4 });
    const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false, organizationConcurrency: { limit: 2, queue: 0, maxWaitMs: 2_000 } });
    const post = (token: string, query = '{ projects(first: 20) { edges { node { id } } } }') =>
      gateway.fetch('http://tenantgate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
    try {
      // Twelve at once: all reach the limit before the first is answered (each awaits its token first).
      const statuses = await Promise.all([...Array.from({ length: 12 }, () => post(acme.member.token)), post(globex.member.token)]);
      const acmeStatuses = statuses.slice(0, 12).map((r) => r.status);
      const refused = statuses.slice(0, 12).filter((r) => r.status === 429);
      expect(new Set(acmeStatuses)).toEqual(new Set([200, 429]));
      expect(acmeStatuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      for (const response of refused) {
        expect(response.headers.get('retry-after')).toBe('1');
        expect(errorCodes({ status: 429, ...((await response.json()) as object) })).toEqual(['TOO_MANY_CONCURRENT_REQUESTS']);
      }
      expect(statuses[12].status).toBe(200);
    } finally {
      await gateway.dispose();
      await db.close();
    }
  });
});

describe('refused requests beyond the allowance', () => {
  it('RefusalAllowance: a burst of twice the rate, refilled by the second, per caller, bounded', () => {
    let now = 0;
    const allowance = new RefusalAllowance(2, () => now, 2);
    expect([1, 2, 3, 4, 5].map(() => allowance.take('a'))).toEqual([true, true, true, true, false]);
    expect(allowance.take('b')).toBe(true); // another caller has its own
    now = 500; // half a second: one refusal's worth
    expect([allowance.take('a'), allowance.take('a')]).toEqual([true, false]);
    now = 10_000; // never more than the burst
    expect([1, 2, 3, 4, 5].map(() => allowance.take('a'))).toEqual([true, true, true, true, false]);
    allowance.take('c'); // a third caller: the least recently refused ('b') is forgotten, its allowance full again
    expect([1, 2, 3, 4].map(() => allowance.take('b'))).toEqual([true, true, true, true]);
  });

  it('keep their turn for the cooldown: a caller looping on refusals is slowed, another organization is not', async () => {
    const db = createDatabase({ url: testUrls().runtimeUrl, max: 4 });
    const gateway = createGateway({
      db,
      verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
      logging: false,
      usage: false,
      organizationConcurrency: { limit: 1, queue: 100, maxWaitMs: 10_000, refusalsPerSecond: 2, refusalCooldownMs: 300 },
    });
    const post = (token: string, query: string) =>
      gateway.fetch('http://tenantgate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
    // Refusals of both kinds: a document that does not parse (200 to an application/json client) and one too complex (400).
    const unparsable = '{ projects(first: 20) { edges { node { id } } } ';
    const tooComplex = `{ ${Array.from({ length: 2_000 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`;
    try {
      const started = performance.now();
      const times: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const response = await post(acme.member.token, i % 2 ? tooComplex : unparsable);
        const status = i % 2 ? 400 : 200;
        expect(response.status).toBe(status);
        expect(errorCodes({ status, ...((await response.json()) as object) })).toEqual([i % 2 ? 'QUERY_TOO_COMPLEX' : 'GRAPHQL_PARSE_FAILED']);
        times.push(performance.now() - started);
      }
      // The allowance (4) is answered at once; the 5th refusal held the one turn 300 ms, so the 6th waited for it.
      expect(times[3]).toBeLessThan(250);
      expect(times[5] - times[4]).toBeGreaterThanOrEqual(280);
      // Another organization is served at once meanwhile, and acme's allowed requests still run after the cooldown.
      const otherStarted = performance.now();
      const other = await post(globex.member.token, '{ viewer { role } }');
      expect(other.status).toBe(200);
      expect(performance.now() - otherStarted).toBeLessThan(250);
      const ok = await post(acme.member.token, '{ viewer { role } }');
      expect(ok.status).toBe(200);
    } finally {
      await gateway.dispose();
      await db.close();
    }
  });
});

describe('database timeouts', () => {
  it('ends a statement at statement_timeout and a transaction left idle at idle_in_transaction_session_timeout', async () => {
    const db = createDatabase({ url: testUrls().runtimeUrl, max: 2, statementTimeoutMs: 200, idleInTransactionTimeoutMs: 300 });
    try {
      const started = performance.now();
      await expect(db.pool.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - started).toBeLessThan(3_000);
      const client = await db.pool.connect();
      await client.query('BEGIN');
      await new Promise((resolve) => setTimeout(resolve, 800));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      const { rows } = await db.pool.query<{ statement: string; idle: string }>(`SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`);
      expect(rows[0]).toEqual({ statement: '200ms', idle: '300ms' });
    } finally {
      await db.close();
    }
  });
});

describe('response size', () => {
  it('replaces a response over MAX_RESPONSE_BYTES with RESPONSE_TOO_LARGE', async () => {
    const db = createDatabase({ url: testUrls().runtimeUrl, max: 2 });
    const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false, maxResponseBytes: 200 });
    try {
      const ask = (query: string) =>
        gateway.fetch('http://tenantgate.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.member.token}` }, body: JSON.stringify({ query }) });
      expect((await ask('{ viewer { role } }')).status).toBe(200);
      const large = await ask(`{ ${Array.from({ length: 20 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`);
      expect(large.status).toBe(500);
      expect(await large.json()).toMatchObject({ errors: [{ extensions: { code: 'RESPONSE_TOO_LARGE', limit: 200 } }] });
    } finally {
      await gateway.dispose();
      await db.close();
    }
  });
});
