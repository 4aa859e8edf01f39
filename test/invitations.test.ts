import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import { createServices, type Services } from '../src/domains/services';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';
import { startSmtp, type TestSmtp } from './helpers/network-servers';

/** Invitations through the GraphQL endpoint, with their mail through a real SMTP server on 127.0.0.1. */

let h: Harness;
let smtp: TestSmtp;
let services: Services;

beforeAll(async () => {
  smtp = await startSmtp();
  services = createServices({ smtpUrl: smtp.url, mailFrom: 'tenantgate <no-reply@tenantgate.test>', publicUrl: 'http://tenantgate.test' });
  h = await startHarness({ services });
});

afterAll(async () => {
  await h?.close();
  services?.mailer.close();
  await smtp?.close();
});

const INVITE = `mutation($email: String!, $role: Role) { inviteMember(input: { email: $email, role: $role }) { invitation { id email role status expired expiresAt } } }`;
const ACCEPT = `mutation($token: String!) { acceptInvitation(input: { token: $token }) { organizationId slug role } }`;
const DECLINE = `mutation($token: String!) { declineInvitation(input: { token: $token }) { declined } }`;
const LIST = `query($status: InvitationStatus) { invitations(status: $status) { id email status } }`;

interface Person {
  id: string;
  email: string;
  token: string;
}

/** Someone with a verified email claim and no organization (a first sign-in, or an existing user's token without `org`). */
async function person(email = `invitee-${randomUUID()}@elsewhere.test`, id: string = randomUUID()): Promise<Person> {
  return { id, email, token: await h.token(id, undefined, { extraClaims: { email, email_verified: true } }) };
}

async function invite(org: TestOrganization, email: string, role: 'ADMIN' | 'MEMBER' = 'MEMBER') {
  const response = await h.execute<{ inviteMember: { invitation: { id: string; email: string; role: string; status: string } } }, unknown>(INVITE, { token: org.admin.token, variables: { email, role } });
  expect(response.errors).toBeUndefined();
  const mail = await smtp.next(email);
  const token = /Invitation token \(acceptInvitation \/ declineInvitation\): (\S+)/.exec(mail.text ?? '')![1];
  return { invitation: response.data!.inviteMember.invitation, token, mail };
}

const accept = (who: Person, token: string) => h.execute<{ acceptInvitation: { organizationId: string; role: string } }, unknown>(ACCEPT, { token: who.token, variables: { token } });
const membership = (organizationId: string, userId: string) => h.system.prisma.membership.findUnique({ where: { organizationId_userId: { organizationId, userId } } });

/** The invitation's entries in its organization's audit log, oldest first. */
async function invitationAudit(organizationId: string, invitationId: string) {
  const { rows } = await h.system.pool.query<{ action: string; actor_id: string | null }>(
    `SELECT action, actor_id FROM audit_log WHERE organization_id = $1 AND target_type = 'invitation' AND target_id = $2 ORDER BY created_at, id`,
    [organizationId, invitationId],
  );
  return rows;
}

describe('inviteMember and acceptInvitation', () => {
  it('invites by mail; the invitee accepts signed in with that email and joins with the role; events recorded', async () => {
    const acme = await h.createOrganization();
    const newcomer = await person();
    const { invitation, token, mail } = await invite(acme, newcomer.email, 'ADMIN');
    expect(invitation).toMatchObject({ email: newcomer.email, role: 'ADMIN', status: 'PENDING' });
    expect(mail.subject).toContain('You are invited to join');
    // Nothing happens before acceptance: no membership, no user.
    expect(await h.system.prisma.user.findUnique({ where: { email: newcomer.email } })).toBeNull();

    const accepted = await accept(newcomer, token);
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.acceptInvitation).toMatchObject({ organizationId: acme.id, role: 'ADMIN' });
    expect(await membership(acme.id, newcomer.id)).toMatchObject({ role: 'ADMIN' });
    const events = await h.system.prisma.event.findMany({ where: { organizationId: acme.id }, orderBy: { occurredAt: 'asc' } });
    expect(events.map((e) => e.type).filter((t) => t.startsWith('invitation.') || t === 'member.joined')).toEqual(['invitation.created', 'member.joined', 'invitation.accepted']);

    // The new member's token for acme works.
    const viewer = await h.execute<{ viewer: { role: string } }, unknown>(`{ viewer { role } }`, { token: await h.token(newcomer.id, acme.id) });
    expect(viewer.data).toEqual({ viewer: { role: 'ADMIN' } });
    // Used once.
    expect(errorCodes(await accept(newcomer, token))).toEqual(['INVITATION_INVALID']);
  });

  it('refuses a signed-in person with another email, and one whose email is not verified', async () => {
    const acme = await h.createOrganization();
    const invited = await person();
    const { token } = await invite(acme, invited.email);
    const other = await person();
    const wrong = await accept(other, token);
    expect(errorCodes(wrong)).toEqual(['INVITATION_INVALID']);
    expect(wrong.errors![0].message).not.toContain(invited.email);
    const unverified = await h.token(randomUUID(), undefined, { extraClaims: { email: invited.email, email_verified: false } });
    expect(errorCodes(await h.execute(ACCEPT, { token: unverified, variables: { token } }))).toEqual(['FAILED_PRECONDITION']);
    expect(await h.system.prisma.membership.count({ where: { organizationId: acme.id } })).toBe(3);
  });

  it('refuses an expired invitation; a resend makes a new link that works and kills the old one', async () => {
    const acme = await h.createOrganization();
    const invited = await person();
    const { invitation, token } = await invite(acme, invited.email);
    await h.system.prisma.invitation.updateMany({ where: { organizationId: acme.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(errorCodes(await accept(invited, token))).toEqual(['INVITATION_INVALID']);
    const listed = await h.execute<{ invitations: { id: string; status: string }[] }, unknown>(`{ invitations { id expired } }`, { token: acme.owner.token });
    expect(listed.data!.invitations).toEqual([{ id: invitation.id, expired: true }]);

    const resent = await h.execute(`mutation($id: ID!) { resendInvitation(input: { id: $id }) { invitation { expired } } }`, { token: acme.owner.token, variables: { id: invitation.id } });
    expect(resent.data).toEqual({ resendInvitation: { invitation: { expired: false } } });
    const fresh = /Invitation token \(acceptInvitation \/ declineInvitation\): (\S+)/.exec((await smtp.next(invited.email)).text ?? '')![1];
    expect(errorCodes(await accept(invited, token))).toEqual(['INVITATION_INVALID']);
    expect((await accept(invited, fresh)).errors).toBeUndefined();
    // The organization's audit log: created, sent again (by the owner), accepted.
    expect(await invitationAudit(acme.id, decodeGlobalID(invitation.id).id)).toEqual([
      { action: 'invitation.created', actor_id: acme.admin.id },
      { action: 'invitation.resent', actor_id: acme.owner.id },
      { action: 'invitation.accepted', actor_id: invited.id },
    ]);
  });

  it('decline: the invitation is DECLINED and cannot be accepted afterwards', async () => {
    const acme = await h.createOrganization();
    const invited = await person();
    const { token } = await invite(acme, invited.email);
    expect((await h.execute(DECLINE, { token: invited.token, variables: { token } })).data).toEqual({ declineInvitation: { declined: true } });
    expect(errorCodes(await accept(invited, token))).toEqual(['INVITATION_INVALID']);
    const declined = await h.execute<{ invitations: { status: string }[] }, unknown>(LIST, { token: acme.admin.token, variables: { status: 'DECLINED' } });
    expect(declined.data!.invitations).toEqual([expect.objectContaining({ status: 'DECLINED', email: invited.email })]);
    expect(await membership(acme.id, invited.id)).toBeNull();
    const [{ id }] = (await h.system.pool.query(`SELECT id FROM invitations WHERE organization_id = $1`, [acme.id])).rows;
    expect(await invitationAudit(acme.id, id)).toEqual([
      { action: 'invitation.created', actor_id: acme.admin.id },
      { action: 'invitation.declined', actor_id: invited.id },
    ]);
  });

  it('revoke: by an OWNER or ADMIN; a member may not; a revoked invitation cannot be accepted', async () => {
    const acme = await h.createOrganization();
    const invited = await person();
    const { invitation, token } = await invite(acme, invited.email);
    const REVOKE = `mutation($id: ID!) { revokeInvitation(input: { id: $id }) { invitation { status } } }`;
    expect(errorCodes(await h.execute(REVOKE, { token: acme.member.token, variables: { id: invitation.id } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await h.execute(LIST, { token: acme.member.token }))).toEqual(['FORBIDDEN']);
    expect((await h.execute(REVOKE, { token: acme.owner.token, variables: { id: invitation.id } })).data).toEqual({ revokeInvitation: { invitation: { status: 'REVOKED' } } });
    expect(errorCodes(await accept(invited, token))).toEqual(['INVITATION_INVALID']);
    expect(await membership(acme.id, invited.id)).toBeNull();
    expect(await invitationAudit(acme.id, decodeGlobalID(invitation.id).id)).toEqual([
      { action: 'invitation.created', actor_id: acme.admin.id },
      { action: 'invitation.revoked', actor_id: acme.owner.id },
    ]);
  });

  it('checks the USERS quota at invitation and again at acceptance (the seat taken in between)', async () => {
    const acme = await h.createOrganization();
    // owner, admin, member: 3 of 4.
    await h.system.prisma.quotaOverride.create({ data: { organizationId: acme.id, resource: 'USERS', limit: 4 } });
    const [first, second] = [await person(), await person()];
    const a = await invite(acme, first.email);
    const b = await invite(acme, second.email);
    expect((await accept(first, a.token)).errors).toBeUndefined();

    const late = await accept(second, b.token);
    expect(errorCodes(late)).toEqual(['QUOTA_EXCEEDED']);
    expect(await membership(acme.id, second.id)).toBeNull();
    // Nothing was consumed: the invitation is still pending, for when a seat frees up.
    expect(await h.system.prisma.invitation.findFirstOrThrow({ where: { organizationId: acme.id, email: second.email } })).toMatchObject({ status: 'PENDING' });
    // And a new invitation is refused at the limit.
    expect(errorCodes(await h.execute(INVITE, { token: acme.admin.token, variables: { email: `third-${randomUUID()}@x.test` } }))).toEqual(['QUOTA_EXCEEDED']);
  });

  it('two organizations invite the same person: each sees only its own invitation; accepting both gives two memberships', async () => {
    const [acme, globex] = [await h.createOrganization(), await h.createOrganization()];
    const invited = await person();
    const fromAcme = await invite(acme, invited.email);
    const fromGlobex = await invite(globex, invited.email, 'ADMIN');
    const acmeList = await h.execute<{ invitations: { id: string }[] }, unknown>(LIST, { token: acme.owner.token });
    const globexList = await h.execute<{ invitations: { id: string }[] }, unknown>(LIST, { token: globex.owner.token });
    expect(acmeList.data!.invitations.map((i) => i.id)).toEqual([fromAcme.invitation.id]);
    expect(globexList.data!.invitations.map((i) => i.id)).toEqual([fromGlobex.invitation.id]);
    // globex cannot revoke acme's invitation: NOT_FOUND, as if it did not exist.
    const across = await h.execute(`mutation($id: ID!) { revokeInvitation(input: { id: $id }) { invitation { status } } }`, { token: globex.owner.token, variables: { id: fromAcme.invitation.id } });
    expect(errorCodes(across)).toEqual(['NOT_FOUND']);

    expect((await accept(invited, fromAcme.token)).data!.acceptInvitation.role).toBe('MEMBER');
    expect((await accept(invited, fromGlobex.token)).data!.acceptInvitation.role).toBe('ADMIN');
    expect(await h.system.prisma.membership.findMany({ where: { userId: invited.id }, select: { organizationId: true, role: true }, orderBy: { role: 'asc' } })).toEqual(
      expect.arrayContaining([
        { organizationId: acme.id, role: 'MEMBER' },
        { organizationId: globex.id, role: 'ADMIN' },
      ]),
    );
  });

  it('answers an invitation to an address with an account elsewhere exactly like one to a new address', async () => {
    const [acme, globex] = [await h.createOrganization(), await h.createOrganization()];
    const shape = (r: { status: number; data?: unknown; errors?: unknown }) =>
      JSON.parse(JSON.stringify({ status: r.status, data: r.data, errors: r.errors }).replace(/"(id|email|expiresAt)":"[^"]+"/g, '"$1":"x"'));
    const existing = await h.execute(INVITE, { token: acme.admin.token, variables: { email: globex.member.email } });
    const unknown = await h.execute(INVITE, { token: acme.admin.token, variables: { email: `nobody-${randomUUID()}@example.test` } });
    expect(existing.errors).toBeUndefined();
    expect(shape(existing)).toEqual(shape(unknown));
    await smtp.next(globex.member.email);
    // Nothing of the account is linked to acme before it accepts.
    expect(await membership(acme.id, globex.member.id)).toBeNull();
  });

  it('refuses an already-member address, and a department of another organization', async () => {
    const [acme, globex] = [await h.createOrganization(), await h.createOrganization()];
    expect(errorCodes(await h.execute(INVITE, { token: acme.admin.token, variables: { email: acme.member.email } }))).toEqual(['BAD_USER_INPUT']);
    const department = await h.system.prisma.department.create({ data: { organizationId: globex.id, name: 'Sales', id: randomUUID() } });
    const response = await h.execute(`mutation($email: String!, $d: ID) { inviteMember(input: { email: $email, departmentId: $d }) { invitation { id } } }`, {
      token: acme.admin.token,
      variables: { email: `x-${randomUUID()}@x.test`, d: encodeGlobalID('Department', department.id) },
    });
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });
});
