import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { quotaMonth } from '../src/usage/api-calls-quota';
import { createUsageRecorder } from '../src/usage/recorder';
import { type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * Database hardening (issue 13, item 8), replayed as the runtime role: the
 * catalog says every SECURITY DEFINER function pins its search_path with
 * pg_temp last, a temporary table can no longer stand in for a platform table,
 * and app.record_usage writes the transaction's own organization only.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
let admin: pg.Client;
let runtime: pg.Client;

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));
beforeAll(async () => {
  admin = new pg.Client({ connectionString: h.adminUrl });
  runtime = new pg.Client({ connectionString: h.runtimeUrl });
  await Promise.all([admin.connect(), runtime.connect()]);
});
afterAll(async () => {
  await Promise.all([admin.end(), runtime.end()]);
  await h.close();
});

async function usageOf(organizationId: string): Promise<number> {
  const { rows } = await admin.query<{ calls: string }>('SELECT coalesce(sum(api_calls), 0) AS calls FROM usage_daily WHERE organization_id = $1', [organizationId]);
  return Number(rows[0].calls);
}

describe('every SECURITY DEFINER function', () => {
  it('has a search_path that names pg_temp, last', async () => {
    const { rows } = await admin.query<{ signature: string; config: string[] | null }>(
      `SELECT p.oid::regprocedure::text AS signature, p.proconfig AS config
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    // Not vacuous: the platform check and the usage writer are among them.
    expect(rows.map((r) => r.signature)).toEqual(expect.arrayContaining(['app.is_platform_operator(uuid)', 'app.record_usage(jsonb)']));
    const problems = rows.flatMap(({ signature, config }) => {
      const path = config?.find((c) => c.startsWith('search_path='))?.slice('search_path='.length);
      if (!path) return [`${signature}: no search_path`];
      const schemas = path.split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
      return schemas[schemas.length - 1] === 'pg_temp' ? [] : [`${signature}: search_path = ${path}`];
    });
    expect(problems).toEqual([]);
  });

  it('ignores a temporary table of the runtime role named like a platform table', async () => {
    const impostor = randomUUID();
    await runtime.query('CREATE TEMP TABLE platform_operators (user_id uuid)');
    try {
      await runtime.query('INSERT INTO platform_operators VALUES ($1)', [impostor]);
      const { rows } = await runtime.query<{ operator: boolean }>('SELECT app.is_platform_operator($1::uuid) AS operator', [impostor]);
      expect(rows[0].operator).toBe(false);
    } finally {
      await runtime.query('DROP TABLE pg_temp.platform_operators');
    }
  });
});

describe('app.record_usage', () => {
  const day = quotaMonth(Date.now()).from;
  const rows = (organizationId: string, calls: number) =>
    JSON.stringify({ counters: [{ organization_id: organizationId, day, api_calls: calls, bandwidth_bytes: 0, compute_ms: 0 }], activeUsers: [] });

  it('refuses, as the runtime role, rows of an organization other than the transaction\'s', async () => {
    const before = await usageOf(globex.id);
    await runtime.query('BEGIN');
    await runtime.query(`SET LOCAL app.current_org_id = '${acme.id}'`);
    await expect(runtime.query('SELECT app.record_usage($1::jsonb)', [rows(globex.id, 1_000_000)])).rejects.toMatchObject({ code: '42501' });
    await runtime.query('ROLLBACK');
    expect(await usageOf(globex.id)).toBe(before);
  });

  it('refuses a call without an organization in the transaction (the old unscoped flush)', async () => {
    await expect(runtime.query('SELECT app.record_usage($1::jsonb)', [rows(globex.id, 1_000_000)])).rejects.toMatchObject({ code: '42501' });
  });

  it('adds to the transaction\'s own organization, and adds up rows of one day instead of failing', async () => {
    const before = await usageOf(acme.id);
    const twice = JSON.stringify({
      counters: [
        { organization_id: acme.id, day, api_calls: 2, bandwidth_bytes: 0, compute_ms: 0 },
        { organization_id: acme.id, day, api_calls: 3, bandwidth_bytes: 0, compute_ms: 0 },
      ],
      activeUsers: [
        { organization_id: acme.id, day, user_id: acme.member.id },
        { organization_id: acme.id, day, user_id: acme.member.id },
      ],
    });
    await runtime.query('BEGIN');
    await runtime.query(`SET LOCAL app.current_org_id = '${acme.id}'`);
    await runtime.query('SELECT app.record_usage($1::jsonb)', [twice]);
    await runtime.query('COMMIT');
    expect(await usageOf(acme.id)).toBe(before + 5);
  });
});

describe('the usage recorder', () => {
  const month = quotaMonth(Date.now());

  it('is not stopped by an upper-case org id: one key per organization, every organization written', async () => {
    const recorder = createUsageRecorder({ pool: h.db.pool, flushIntervalMs: 0, flushEveryCalls: Infinity });
    const [a, g] = [await usageOf(acme.id), await usageOf(globex.id)];
    recorder.record({ organizationId: acme.id.toUpperCase(), userId: acme.member.id.toUpperCase(), apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
    recorder.record({ organizationId: globex.id, userId: globex.member.id, apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
    expect(recorder.unflushedApiCalls(acme.id, month.from)).toBe(2);
    await recorder.flush();
    expect([await usageOf(acme.id), await usageOf(globex.id)]).toEqual([a + 2, g + 1]);
    await recorder.close();
  });

  it('through the gateway: a token with the org in upper case is metered with the lower-case one', async () => {
    const a = await usageOf(acme.id);
    const upper = await h.token(acme.member.id.toUpperCase(), acme.id.toUpperCase());
    for (const token of [upper, acme.member.token, upper]) expect((await h.execute('{ viewer { role } }', { token })).errors).toBeUndefined();
    await h.usage.flush();
    expect(await usageOf(acme.id)).toBe(a + 3);
  });

  it('isolates one organization\'s bad write: the others are written, the bad counts are dropped and logged', async () => {
    const onError = jest.fn();
    const recorder = createUsageRecorder({ pool: h.db.pool, flushIntervalMs: 0, flushEveryCalls: Infinity, onError });
    const [a, g] = [await usageOf(acme.id), await usageOf(globex.id)];
    recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
    // A counter past bigint: the database refuses this organization's row (22003), and only it.
    recorder.record({ organizationId: globex.id, userId: globex.member.id, apiCalls: 7, bandwidthBytes: 1e30, computeMs: 0 });
    const other = await h.createOrganization();
    recorder.record({ organizationId: other.id, userId: other.member.id, apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
    await expect(recorder.flush()).rejects.toMatchObject({ code: '22003', usageFailure: { lostApiCalls: 7, keptApiCalls: 0, failedOrganizations: 1 } });
    expect([await usageOf(acme.id), await usageOf(globex.id), await usageOf(other.id)]).toEqual([a + 1, g, 1]);
    // Refused for its content, it would fail again: dropped, not retried for ever, and said so.
    expect(recorder.unflushedApiCalls(globex.id, month.from)).toBe(0);
    await recorder.flush();
    expect(onError).not.toHaveBeenCalled();
    await recorder.close();
  });

  /** The runtime pool while `down` is true: every connection attempt is refused, as during an outage. */
  function outagePool() {
    const state = { down: true, attempts: 0 };
    const pool = {
      connect: () => {
        state.attempts += 1;
        return state.down ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) : h.db.pool.connect();
      },
    };
    return { pool, state };
  }

  it('keeps every count through a minute of outage (60 failed flushes), then writes them all', async () => {
    const { pool, state } = outagePool();
    const onError = jest.fn();
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: Infinity, onError });
    const [a, g] = [await usageOf(acme.id), await usageOf(globex.id)];
    for (let second = 0; second < 60; second += 1) {
      recorder.record({ organizationId: acme.id, userId: acme.member.id, apiCalls: 10, bandwidthBytes: 0, computeMs: 0 });
      recorder.record({ organizationId: globex.id, userId: globex.member.id, apiCalls: 1, bandwidthBytes: 0, computeMs: 0 });
      await expect(recorder.flush()).rejects.toMatchObject({ usageFailure: { lostApiCalls: 0, keptApiCalls: (second + 1) * 11, failedOrganizations: 2 } });
    }
    // One connection attempt per flush, not one per organization.
    expect(state.attempts).toBe(60);
    state.down = false;
    await recorder.flush();
    expect([await usageOf(acme.id), await usageOf(globex.id)]).toEqual([a + 600, g + 60]);
    await recorder.close();
  });

  it('holds at most maxPendingEntries entries (counters and users) during an outage, and says what it dropped', async () => {
    const { pool, state } = outagePool();
    const onError = jest.fn();
    const recorder = createUsageRecorder({ pool, flushIntervalMs: 0, flushEveryCalls: Infinity, maxPendingEntries: 4, onError });
    const orgs = [acme, globex, await h.createOrganization()];
    for (const org of orgs) recorder.record({ organizationId: org.id, userId: org.member.id, apiCalls: 5, bandwidthBytes: 0, computeMs: 0 });
    // The third organization's counter did not fit: its 5 calls are dropped and reported with the next flush.
    expect(recorder.unflushedApiCalls(orgs[2].id, month.from)).toBe(0);
    await expect(recorder.flush()).rejects.toMatchObject({ usageFailure: { lostApiCalls: 5, keptApiCalls: 10 } });
    state.down = false;
    const before = await usageOf(acme.id);
    await recorder.flush();
    expect(await usageOf(acme.id)).toBe(before + 5);
    await recorder.close();
  });
});
