import { startHarness, type Harness } from './helpers/harness';
import { ACCESS_RECHECK, OPEN_READ, summarizeStatement } from './helpers/statements';
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
  return { response, sent: statements.map(summarizeStatement), raw: [...statements] };
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
  expect(second.raw[0]).toContain('FROM access_versions');
});

it('a removed member is refused on the very next request', async () => {
  const org = await h.createOrganization();
  await viewer(org.member.token);
  expect((await viewer(org.member.token)).response.errors).toBeUndefined();
  await h.system.prisma.membership.delete({ where: { organizationId_userId: { organizationId: org.id, userId: org.member.id } } });
  const next = await viewer(org.member.token);
  expect(next.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(next.sent).toContain(ACCESS_RECHECK);
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
  expect(next.sent).toContain(ACCESS_RECHECK);
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
  const entry = { version: '1', access: {} as never, apiCallsUsed: null, apiCallsCounted: 0, month: '2026-12-01' };
  cache.set('a', 'u', entry);
  cache.set('b', 'u', entry);
  cache.get('a', 'u');
  cache.set('c', 'u', entry);
  expect(cache.size).toBe(2);
  expect(cache.get('b', 'u')).toBeUndefined();
  expect(cache.get('a', 'u')).toBe(entry);
});
