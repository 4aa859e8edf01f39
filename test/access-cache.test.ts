import net, { type AddressInfo } from 'node:net';
import { startHarness, testUrls, type Harness } from './helpers/harness';
import { OPEN_READ, restartedAfterFullCheck, summarizeStatements } from './helpers/statements';
import { ViewerQuery } from './operations';
import { AccessCache } from '../src/auth/access-cache';

/**
 * The access cache (src/auth/access-cache.ts): a member's repeated requests
 * skip app.request_access() while the organization's access version is the
 * one read with the cached check, and the very next request after a change
 * that matters runs the full check again. Each change is made the way a
 * platform or another process would make it: straight in the database.
 */

let h: Harness;
let statements: string[] = [];

beforeAll(async () => {
  h = await startHarness({ onStatement: (sql) => statements.push(sql) });
});
afterAll(() => h.close());

async function viewer(token: string, remoteAddress?: string) {
  statements = [];
  const response = await h.execute(ViewerQuery, { token, remoteAddress });
  return { response, sent: summarizeStatements(statements), raw: [...statements] };
}

const fullCheck = (raw: string[]) => raw.some((sql) => sql.includes('app.request_access('));

it('a repeated request reads the version row instead of running the access function', async () => {
  const org = await h.createOrganization();
  const first = await viewer(org.member.token);
  expect(first.response.errors).toBeUndefined();
  expect(fullCheck(first.raw)).toBe(true);
  const second = await viewer(org.member.token);
  expect(second.response.data?.viewer?.role).toBe('MEMBER');
  expect(second.sent[0]).toBe(OPEN_READ);
  expect(fullCheck(second.raw)).toBe(false);
  expect(second.raw[0]).toContain("SET LOCAL app.current_member_role = 'MEMBER'");
  // The version is read by a prepared statement of its own (planned once per connection), written with the scope.
  expect(second.raw[0]).not.toContain('SELECT');
  expect(second.raw[1]).toBe('SELECT version::text FROM access_versions WHERE organization_id = $1::uuid');
});

it('reads the version with a statement prepared once per connection', async () => {
  const org = await h.createOrganization();
  for (let i = 0; i < 3; i += 1) expect((await viewer(org.member.token)).response.errors).toBeUndefined();
  // Every connection of the pool (it holds at most poolSize): the one that served the requests has it.
  const connections = await Promise.all(Array.from({ length: h.db.pool.options.max ?? 10 }, () => h.db.pool.connect()));
  try {
    const prepared = await Promise.all(connections.map((c) => c.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')));
    expect(prepared.flatMap((result) => result.rows.map((row) => row.statement))).toContain('SELECT version::text FROM access_versions WHERE organization_id = $1::uuid');
  } finally {
    for (const c of connections) c.release();
  }
});

it('a removed member is refused on the very next request', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  expect((await viewer(org.member.token)).response.errors).toBeUndefined();
  await h.system.prisma.membership.delete({ where: { organizationId_userId: { organizationId: org.id, userId: org.member.id } } });
  const next = await viewer(org.member.token);
  expect(next.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(next.response.data ?? null).toBeNull();
  expect(restartedAfterFullCheck(next.raw)).toBe(true);
});

it('a changed role is the role of the very next request, and of the transaction that request reads in', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  await viewer(org.member.token);
  await h.system.prisma.membership.update({ where: { organizationId_userId: { organizationId: org.id, userId: org.member.id } }, data: { role: 'ADMIN' } });
  const next = await viewer(org.member.token);
  expect(next.response.data?.viewer?.role).toBe('ADMIN');
  const after = await viewer(org.member.token);
  expect(after.response.data?.viewer?.role).toBe('ADMIN');
  expect(after.raw[0]).toContain("SET LOCAL app.current_member_role = 'ADMIN'");
  expect(fullCheck(after.raw)).toBe(false);
});

it('an admin demoted to member is refused an admins-only read on the very next request, though the read began on the remembered role', async () => {
  const org = await h.createOrganization();
  const AUDIT_LOG = '{ auditLog(first: 1) { edges { node { action } } } }';
  const read = async () => {
    statements = [];
    const response = await h.execute<{ auditLog: { edges: unknown[] } }, never>(AUDIT_LOG, { token: org.admin.token });
    return { response, raw: [...statements] };
  };
  expect((await read()).response.errors).toBeUndefined();
  const remembered = await read();
  expect(remembered.response.data?.auditLog).toBeDefined();
  expect(fullCheck(remembered.raw)).toBe(false);
  await h.system.prisma.membership.update({ where: { organizationId_userId: { organizationId: org.id, userId: org.admin.id } }, data: { role: 'MEMBER' } });
  const next = await read();
  expect(restartedAfterFullCheck(next.raw)).toBe(true);
  expect(next.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(next.response.data?.auditLog ?? null).toBeNull();
});

it('a remembered check sends no message of its own: the opening, the reads, COMMIT', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  const second = await viewer(org.member.token);
  expect(second.response.errors).toBeUndefined();
  // The opening, the reads, COMMIT: no message of its own for the check.
  expect(second.sent[0]).toBe(OPEN_READ);
  expect(second.sent.slice(1, -1).every((s) => s.startsWith('SELECT '))).toBe(true);
  expect(second.sent.at(-1)).toBe('COMMIT');
});

it('a remembered check and the first read travel together: PostgreSQL answers nothing until both are written', async () => {
  // A proxy between the gateway and PostgreSQL that, once gated, holds every answer back until the
  // gateway has written a simple-protocol message (the opening, 'Q') and then a Bind ('B', the read).
  // A gateway that waited for the opening's answer before sending the read would wait forever.
  const { adminUrl, runtimeUrl } = testUrls();
  const target = new URL(runtimeUrl);
  let gated = false;
  let seen = '';
  let pending = Buffer.alloc(0);
  const held: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (gated) {
        // Frontend messages after start-up: a type byte and a length that counts itself.
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
          seen += String.fromCharCode(pending[0]);
          pending = pending.subarray(1 + pending.readInt32BE(1));
        }
        if (/Q.*B/.test(seen)) {
          gated = false;
          for (const flush of held.splice(0)) flush();
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => (gated ? held.push(() => client.write(chunk)) : client.write(chunk)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const viaProxy = new URL(runtimeUrl);
  viaProxy.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const gatedHarness = await startHarness({ poolSize: 1, database: { adminUrl, runtimeUrl: viaProxy.toString() } });
  try {
    const org = await gatedHarness.createOrganization();
    const ask = () => gatedHarness.execute(ViewerQuery, { token: org.member.token });
    // The first request runs the full check (and prepares the read); the second goes on what it remembers.
    expect((await ask()).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first request's COMMIT is answered
    gated = true;
    let timer: NodeJS.Timeout | undefined;
    const second = await Promise.race([ask(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("the read waited for the opening's answer")), 5_000)))]).finally(() => clearTimeout(timer));
    expect(second.data?.viewer?.role).toBe('MEMBER');
    expect(seen.startsWith('Q')).toBe(true);
  } finally {
    gated = false;
    for (const flush of held.splice(0)) flush();
    await gatedHarness.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy.close(resolve));
  }
}, 30_000);

it('a refusal made on a remembered check waits for it: an IP allow-list lifted lets the very next request in', async () => {
  const org = await h.createOrganization();
  await h.system.prisma.organization.update({ where: { id: org.id }, data: { settings: { security: { allowedIPs: ['203.0.113.0/24'] } } } });
  expect((await viewer(org.member.token, '198.51.100.1')).response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const remembered = await viewer(org.member.token, '198.51.100.1');
  expect(remembered.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(fullCheck(remembered.raw)).toBe(false);
  await h.system.prisma.organization.update({ where: { id: org.id }, data: { settings: {} } });
  const next = await viewer(org.member.token, '198.51.100.1');
  expect(next.response.errors).toBeUndefined();
  expect(next.response.data?.viewer?.role).toBe('MEMBER');
  expect(fullCheck(next.raw)).toBe(true);
});

it('an IP allow-list set in the settings refuses the very next request', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token, '198.51.100.1');
  expect((await viewer(org.member.token, '198.51.100.1')).response.errors).toBeUndefined();
  await h.system.prisma.organization.update({ where: { id: org.id }, data: { settings: { security: { allowedIPs: ['203.0.113.0/24'] } } } });
  const next = await viewer(org.member.token, '198.51.100.1');
  expect(next.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

it('a member moved to a department reads with the new department path on the very next request', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  await viewer(org.member.token);
  const department = await h.system.prisma.department.create({ data: { organizationId: org.id, name: 'Research' } });
  await h.system.prisma.membership.update({ where: { organizationId_userId: { organizationId: org.id, userId: org.member.id } }, data: { departmentId: department.id } });
  const next = await viewer(org.member.token);
  expect(restartedAfterFullCheck(next.raw)).toBe(true);
  expect(next.raw.at(-1)).toBe('COMMIT');
  const after = await viewer(org.member.token);
  expect(fullCheck(after.raw)).toBe(false);
  expect(after.raw[0]).toContain(`SET LOCAL app.current_department_path = '${department.id}'`);
});

it("another organization's change does not invalidate this one's entries", async () => {
  const org = await h.createOrganization();
  const other = await h.createOrganization();
  await viewer(org.member.token);
  await h.system.prisma.membership.update({ where: { organizationId_userId: { organizationId: other.id, userId: other.member.id } }, data: { role: 'ADMIN' } });
  expect(fullCheck((await viewer(org.member.token)).raw)).toBe(false);
});

it('a plan limit changed by the platform invalidates every organization', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  const [{ version: before }] = await h.system.prisma.$queryRawUnsafe<{ version: bigint }[]>(`SELECT version FROM access_versions WHERE organization_id = '${org.id}'`);
  await h.system.prisma.$executeRawUnsafe(`UPDATE plan_limits SET "limit" = "limit" WHERE plan = 'FREE' AND resource = 'API_CALLS'`);
  const [{ version: after }] = await h.system.prisma.$queryRawUnsafe<{ version: bigint }[]>(`SELECT version FROM access_versions WHERE organization_id = '${org.id}'`);
  expect(after).toBeGreaterThan(before);
  expect(fullCheck((await viewer(org.member.token)).raw)).toBe(true);
});

it('the API_CALLS quota counts the calls made since the cached check, written or not', async () => {
  const org = await h.createOrganization();
  await h.system.prisma.quotaOverride.create({ data: { organizationId: org.id, resource: 'API_CALLS', limit: 5n } });
  const codes: unknown[] = [];
  for (let i = 0; i < 7; i += 1) {
    const { response } = await viewer(org.member.token);
    codes.push(response.errors?.[0]?.extensions?.code ?? 'ok');
    // A flush in the middle moves counts from the recorder into usage_daily: none may be lost or counted twice.
    if (i === 2) await h.usage.flush();
  }
  expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
});

it('the runtime role reads its own organization\'s version only, and cannot change it', async () => {
  const org = await h.createOrganization();
  const other = await h.createOrganization();
  const client = await h.db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL app.current_org_id = '${org.id}'`);
    const { rows } = await client.query<{ organization_id: string }>('SELECT organization_id FROM access_versions');
    expect(rows.map((r) => r.organization_id)).toEqual([org.id]);
    await expect(client.query(`UPDATE access_versions SET version = version + 1 WHERE organization_id = '${other.id}'`)).rejects.toThrow(/permission denied/);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
});

it('is bounded: the least recently used entries go first', () => {
  const cache = new AccessCache({ max: 2, maxAgeMs: 60_000 });
  const entry = { version: '1', access: {} as never, apiCallsUsed: null, apiCallsCounted: 0, month: '2026-12-01', usageReadAt: 0 };
  cache.set('a', 'u', entry);
  cache.set('b', 'u', entry);
  cache.get('a', 'u');
  cache.set('c', 'u', entry);
  expect(cache.size).toBe(2);
  expect(cache.get('b', 'u')).toBeUndefined();
  expect(cache.get('a', 'u')).toBe(entry);
});

describe('an entry whose API_CALLS usage is older than ACCESS_CACHE_MAX_AGE_MS', () => {
  // The gateway's clock, moved by the test; the default max age (5 s) applies.
  let clock = Date.now();
  let aged: Harness;
  let agedStatements: string[] = [];
  beforeAll(async () => {
    aged = await startHarness({ now: () => clock, onStatement: (sql) => agedStatements.push(sql) });
  });
  afterAll(() => aged.close());

  async function request(token: string) {
    agedStatements = [];
    const response = await aged.execute(ViewerQuery, { token });
    return { code: response.errors?.[0]?.extensions?.code ?? 'ok', raw: [...agedStatements] };
  }
  const readsUsage = (raw: string[]) => raw.some((sql) => sql.startsWith('SELECT v.version::text, (SELECT COALESCE(sum(u.api_calls), 0) FROM usage_daily'));
  /** Calls another gateway process wrote, today (as its recorder would). */
  async function writtenElsewhere(organizationId: string, calls: number) {
    await aged.system.prisma.usageDaily.create({ data: { organizationId, day: new Date(`${new Date(clock).toISOString().slice(0, 10)}T00:00:00Z`), apiCalls: BigInt(calls) } });
  }

  it('reads the usage again in the message that opens the transaction, not the full check, and then is young again', async () => {
    const org = await aged.createOrganization();
    await aged.system.prisma.quotaOverride.create({ data: { organizationId: org.id, resource: 'API_CALLS', limit: 1000n } });
    expect(fullCheck((await request(org.member.token)).raw)).toBe(true);
    const young = await request(org.member.token);
    expect([young.code, fullCheck(young.raw), readsUsage(young.raw)]).toEqual(['ok', false, false]);
    clock += 5_000;
    const old = await request(org.member.token);
    expect([old.code, fullCheck(old.raw), readsUsage(old.raw)]).toEqual(['ok', false, true]);
    // One message: the opening, the version and usage read, the reads, COMMIT.
    expect(summarizeStatements(old.raw)[0]).toBe(OPEN_READ);
    clock += 1_000;
    const after = await request(org.member.token);
    expect([after.code, fullCheck(after.raw), readsUsage(after.raw)]).toEqual(['ok', false, false]);
  });

  it("counts the calls other gateway processes wrote since, and refuses the request they bring to the limit, the remembered count notwithstanding", async () => {
    const org = await aged.createOrganization();
    await aged.system.prisma.quotaOverride.create({ data: { organizationId: org.id, resource: 'API_CALLS', limit: 10n } });
    expect((await request(org.member.token)).code).toBe('ok');
    expect((await request(org.member.token)).code).toBe('ok');
    await writtenElsewhere(org.id, 8);
    // Within the max age the remembered count (2) stands.
    clock += 1_000;
    expect((await request(org.member.token)).code).toBe('ok');
    clock += 5_000;
    // 8 written elsewhere + 3 here: the remembered 3 would let it through, the usage read now refuses it.
    const refused = await request(org.member.token);
    expect(refused.code).toBe('QUOTA_EXCEEDED');
    expect(readsUsage(refused.raw)).toBe(true);
    expect(fullCheck(refused.raw)).toBe(false);
    expect((await request(org.member.token)).code).toBe('QUOTA_EXCEEDED');
  });

  it('a mutation on an old entry runs the full check; on a young one, the version read', async () => {
    const org = await aged.createOrganization();
    await aged.system.prisma.quotaOverride.create({ data: { organizationId: org.id, resource: 'API_CALLS', limit: 1000n } });
    const create = async () => {
      agedStatements = [];
      const response = await aged.execute('mutation { createProject(input: { name: "Aged" }) { project { id } } }', { token: org.member.token });
      expect(response.errors).toBeUndefined();
      return fullCheck([...agedStatements]);
    };
    await request(org.member.token);
    expect(await create()).toBe(false);
    clock += 5_000;
    expect(await create()).toBe(true);
  });
});
