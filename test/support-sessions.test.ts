import { recordEndedSupportSessions } from '../src/audit/support-sessions';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { decodeJwt } from 'jose';
import { errorCodes, platformId, type Harness, type TestOrganization, type TestUser } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * Support sessions (issue 13, item 6): every mutation a session may make works
 * and is recorded in the platform audit log with the session's id; membership,
 * ownership and billing changes are refused; an hour of support cannot become
 * standing access.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
let operator: TestUser;
let session: string;
let sessionId: string;

const REASON = 'Ticket #4711: customer cannot see their projects';

twoOrganizations({ }, (f) => ({ h, acme, globex } = f));
beforeAll(async () => {
  operator = await h.createPlatformOperator();
  // PRO: custom domains are part of the plan (FREE has none).
  await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { plan: 'PRO' } });
  const started = await h.execute<{ startSupportSession: { token: string } }, unknown>(
    'mutation($input: StartSupportSessionInput!) { startSupportSession(input: $input) { token } }',
    { token: operator.token, variables: { input: { organizationId: platformId(acme.id), reason: REASON } } },
  );
  expect(started.errors).toBeUndefined();
  session = started.data!.startSupportSession.token;
  sessionId = String(decodeJwt(session).jti);
});

async function run<T = Record<string, any>>(document: string, variables?: Record<string, unknown>) {
  return h.execute<T, unknown>(document, { token: session, variables });
}

const auditOf = (field: string) =>
  h.system.prisma.platformAuditLog.findMany({ where: { actorUserId: operator.id, action: 'support.mutation', details: { path: ['fields'], array_contains: [field] } } });

describe('a support session', () => {
  it("is in the organization's own audit log: started (the operator, the reason, the session), and ended once its token expires", async () => {
    const started = await h.system.pool.query(
      `SELECT actor_type, actor_id, target_type, target_id, details FROM audit_log WHERE organization_id = $1 AND action = 'support.started'`,
      [acme.id],
    );
    expect(started.rows).toEqual([
      { actor_type: 'operator', actor_id: operator.id, target_type: 'support_session', target_id: sessionId, details: { sessionId, reason: REASON, expiresAt: expect.any(String) } },
    ]);
    const client = await h.system.pool.connect();
    try {
      // Not yet expired: nothing ends.
      expect(await recordEndedSupportSessions(client)).toBe(0);
      // An hour later (the platform record's expiry moved back), the sweep records the end once, however often it runs.
      await h.system.pool.query(
        `UPDATE platform_audit_log SET details = jsonb_set(details, '{expiresAt}', to_jsonb((now() - interval '1 second')::text)) WHERE action = 'support.start' AND details->>'sessionId' = $1`,
        [sessionId],
      );
      expect(await recordEndedSupportSessions(client)).toBe(1);
      expect(await recordEndedSupportSessions(client)).toBe(0);
    } finally {
      client.release();
    }
    const ended = await h.system.pool.query(`SELECT actor_type, actor_id, target_id, details->>'how' AS how FROM audit_log WHERE organization_id = $1 AND action = 'support.ended'`, [acme.id]);
    expect(ended.rows).toEqual([{ actor_type: 'operator', actor_id: operator.id, target_id: sessionId, how: 'expired' }]);
    const events = await h.system.pool.query(`SELECT type FROM events WHERE organization_id = $1 AND type LIKE 'support.%' ORDER BY occurred_at`, [acme.id]);
    expect(events.rows.map((r) => r.type)).toEqual(['support.started', 'support.ended']);
  });

  it('has an id, recorded when it starts', async () => {
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const start = await h.system.prisma.platformAuditLog.findFirst({ where: { actorUserId: operator.id, action: 'support.start' } });
    expect(start?.details).toMatchObject({ sessionId });
  });

  it('makes every mutation it may, each recorded with the session id; its project is owned by the organization owner', async () => {
    const created = await run('mutation { createProject(input: { name: "Made by support" }) { project { id owner { id } } } }');
    expect(created.errors).toBeUndefined();
    const projectId = created.data!.createProject.project.id;
    expect(created.data!.createProject.project.owner.id).toBe(encodeGlobalID('User', acme.owner.id));
    expect((await run('mutation($id: ID!) { updateProject(input: { id: $id, name: "Renamed by support" }) { project { name } } }', { id: projectId })).errors).toBeUndefined();
    const department = await run('mutation { createDepartment(input: { name: "Support dept" }) { department { id } } }');
    expect(department.errors).toBeUndefined();
    const departmentId = department.data!.createDepartment.department.id;
    expect((await run('mutation($id: ID!) { updateDepartment(input: { id: $id, name: "Renamed dept" }) { department { id } } }', { id: departmentId })).errors).toBeUndefined();
    expect((await run('mutation($id: ID!) { deleteDepartment(input: { id: $id }) { deletedDepartmentId } }', { id: departmentId })).errors).toBeUndefined();
    expect((await run('mutation { updateOrganization(input: { settings: { branding: { primaryColor: "#123456" } } }) { organization { id } } }')).errors).toBeUndefined();
    expect((await run(`mutation { addDomain(input: { domain: "support-${acme.slug}.example.com" }) { domain { domain } } }`)).errors).toBeUndefined();
    expect((await run('mutation($id: ID!) { deleteProject(input: { id: $id }) { deletedProjectId } }', { id: projectId })).errors).toBeUndefined();

    for (const field of ['createProject', 'updateProject', 'deleteProject', 'createDepartment', 'updateDepartment', 'deleteDepartment', 'updateOrganization', 'addDomain']) {
      const rows = await auditOf(field);
      expect([field, rows.length]).toEqual([field, 1]);
      expect(rows[0]).toMatchObject({ subjectOrganizationId: acme.id, details: expect.objectContaining({ sessionId }) });
    }
    // The other organization saw none of it.
    expect(await h.system.prisma.project.count({ where: { organizationId: globex.id } })).toBe(0);
  });

  it.each([
    ['addMember (the operator adding itself as ADMIN)', () => `mutation { addMember(input: { email: "${operator.email}", role: ADMIN }) { member { role } } }`],
    ['updateMember', () => `mutation { updateMember(input: { userId: "${encodeGlobalID('User', acme.member.id)}", role: ADMIN }) { member { role } } }`],
    ['removeMember', () => `mutation { removeMember(input: { userId: "${encodeGlobalID('User', acme.member.id)}" }) { removedUserId } }`],
    ['transferOwnership', () => `mutation { transferOwnership(input: { newOwnerId: "${encodeGlobalID('User', acme.admin.id)}" }) { owner { role } } }`],
    ['updateSubscription', () => 'mutation { updateSubscription(input: { plan: ENTERPRISE }) { organization { id } } }'],
    ['assignToDepartment', () => `mutation { assignToDepartment(input: { userId: "${encodeGlobalID('User', acme.member.id)}" }) { member { role } } }`],
  ])('refuses %s: FORBIDDEN, nothing changed', async (_, document) => {
    const response = await run(document());
    expect(response.status).toBe(403);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.errors?.[0].extensions).toMatchObject({ reason: 'SUPPORT_SESSION_REFUSED' });
    expect(await h.system.prisma.membership.findMany({ where: { organizationId: acme.id }, orderBy: { role: 'asc' }, select: { userId: true, role: true } })).toEqual(
      expect.arrayContaining([{ userId: acme.owner.id, role: 'OWNER' }, { userId: acme.admin.id, role: 'ADMIN' }, { userId: acme.member.id, role: 'MEMBER' }]),
    );
    expect(await h.system.prisma.membership.count({ where: { organizationId: acme.id } })).toBe(3);
    expect(await h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: acme.id } })).toMatchObject({ plan: 'PRO' });
  });

  it('leaves no standing access: a plain token of the operator is not a member', async () => {
    const plain = await h.token(operator.id, acme.id);
    const response = await h.execute('{ viewer { role } }', { token: plain });
    expect(response.status).toBe(403);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });

  it('is refused a mutation hidden behind a fragment or an alias', async () => {
    const response = await run(`mutation { ...M } fragment M on Mutation { sneaky: addMember(input: { email: "${operator.email}", role: OWNER }) { member { role } } }`);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(await h.system.prisma.membership.count({ where: { userId: operator.id } })).toBe(0);
  });
});
