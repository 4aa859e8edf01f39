import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTenantClient, type TenantClient } from '../src/db/tenant';
import type { Role } from '../src/generated/prisma/enums';
import { enforcingRules } from '../src/schema/members/members.rules';
import { errorCodes, type GraphQLResponse, type Harness, type TestOrganization, type TestUser } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { AddMember, MembersQuery, RemoveMember, TransferOwnership, UpdateMember, ViewerOrganizations } from './members.operations';
import { NodeQuery, ViewerQuery } from './operations';

/**
 * Members and roles through the GraphQL endpoint, as two organizations, both
 * sides asserted: the action works in its own organization, and the other
 * organization gets NOT_FOUND with nothing changed (checked in the tables
 * through the system client).
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));
beforeEach(async () => {
  // addMember adds addresses of the organization's verified domains only (src/invitations/add-member-rule.ts).
  await h.system.prisma.organizationDomain.create({ data: { organizationId: acme.id, domain: `${acme.slug}.example`, verified: true, verifiedMethod: 'DNS' } });
});

const MISSING_USER = encodeGlobalID('User', '00000000-0000-4000-8000-000000000000');
const TRANSFER_FIRST = /transfer ownership first/;

const gid = (user: { id: string }) => encodeGlobalID('User', user.id);

/** An organization's memberships as the tables hold them: user id → role. */
async function rolesIn(org: TestOrganization): Promise<Record<string, Role>> {
  const rows = await h.system.prisma.membership.findMany({ where: { organizationId: org.id } });
  return Object.fromEntries(rows.map((m) => [m.userId, m.role]));
}

/** The memberships that h.createOrganization makes. */
function asCreated(org: TestOrganization): Record<string, Role> {
  return { [org.owner.id]: 'OWNER', [org.admin.id]: 'ADMIN', [org.member.id]: 'MEMBER' };
}

async function roleOf(org: TestOrganization, user: { id: string }): Promise<Role | null> {
  const row = await h.system.prisma.membership.findUnique({ where: { organizationId_userId: { organizationId: org.id, userId: user.id } } });
  return row?.role ?? null;
}

function expectError(response: GraphQLResponse<unknown>, code: string, message: string | RegExp): void {
  expect(response.errors).toEqual([
    expect.objectContaining({ message: typeof message === 'string' ? message : expect.stringMatching(message), extensions: expect.objectContaining({ code }) }),
  ]);
}

function expectMemberNotFound(response: GraphQLResponse<unknown>): void {
  expect(response.errors).toEqual([expect.objectContaining({ message: 'Member not found', extensions: { code: 'NOT_FOUND' } })]);
}

async function addMember(by: TestUser, email: string, role?: 'ADMIN' | 'MEMBER') {
  const response = await h.execute(AddMember, { token: by.token, variables: { input: { email, role } } });
  expect(response.errors).toBeUndefined();
  return response.data!.addMember.member;
}

describe('members', () => {
  it("lists the caller's organization's members in the order they joined, with totalCount, and never another organization's", async () => {
    const page = await h.execute(MembersQuery, { token: acme.member.token, variables: { first: 10 } });
    expect(page.data?.members.totalCount).toBe(3);
    expect(page.data?.members.edges.map((e) => [e.node.user.id, e.node.role])).toEqual([
      [gid(acme.owner), 'OWNER'],
      [gid(acme.admin), 'ADMIN'],
      [gid(acme.member), 'MEMBER'],
    ]);
    expect(page.data?.members.edges[0].node).toMatchObject({ user: { email: acme.owner.email, name: 'Test owner' }, department: null });

    const other = await h.execute(MembersQuery, { token: globex.member.token, variables: { first: 10 } });
    expect(other.data?.members.totalCount).toBe(3);
    expect(other.data?.members.edges.map((e) => e.node.user.id)).toEqual([gid(globex.owner), gid(globex.admin), gid(globex.member)]);
  });

  it('filters by role, totalCount included', async () => {
    const second = await h.createUser(acme.id, 'ADMIN');
    const admins = await h.execute(MembersQuery, { token: acme.member.token, variables: { role: 'ADMIN' } });
    expect(admins.data?.members.totalCount).toBe(2);
    expect(admins.data?.members.edges.map((e) => e.node.user.id)).toEqual([gid(acme.admin), gid(second)]);
    const owners = await h.execute(MembersQuery, { token: acme.member.token, variables: { role: 'OWNER' } });
    expect(owners.data?.members.totalCount).toBe(1);
    expect(owners.data?.members.edges.map((e) => e.node.user.id)).toEqual([gid(acme.owner)]);
  });

  it('pages with cursors in join order, ties broken by user id', async () => {
    await h.createUser(acme.id, 'MEMBER');
    await h.createUser(acme.id, 'MEMBER');
    await h.createUser(globex.id, 'MEMBER');
    const expected = await h.system.prisma.membership.findMany({ where: { organizationId: acme.id }, orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }] });
    expect(expected).toHaveLength(5);

    const seen: string[] = [];
    let after: string | null | undefined;
    for (let page = 0; page < 3; page += 1) {
      const response = await h.execute(MembersQuery, { token: acme.admin.token, variables: { first: 2, after } });
      const { edges, pageInfo, totalCount } = response.data!.members;
      expect(totalCount).toBe(5);
      seen.push(...edges.map((e) => e.node.user.id));
      after = pageInfo.endCursor;
      expect(pageInfo.hasNextPage).toBe(page < 2);
    }
    expect(seen).toEqual(expected.map((m) => encodeGlobalID('User', m.userId)));
  });

  it("shows a member's department", async () => {
    const department = await h.system.prisma.department.create({ data: { organizationId: acme.id, name: 'Research' } });
    await h.system.prisma.membership.update({
      where: { organizationId_userId: { organizationId: acme.id, userId: acme.member.id } },
      data: { departmentId: department.id },
    });
    const page = await h.execute(MembersQuery, { token: acme.member.token, variables: {} });
    const member = page.data?.members.edges.find((e) => e.node.user.id === gid(acme.member))?.node;
    expect(member?.department).toEqual({ id: encodeGlobalID('Department', department.id), name: 'Research' });
  });
});

describe('addMember', () => {
  it('creates the identity of a new email, lowercased, named after it, as a member of the caller\'s organization only', async () => {
    const email = `  Dana.Scully@${acme.slug}.Example `;
    const member = await addMember(acme.admin, email, 'ADMIN');
    const stored = await h.system.prisma.user.findUniqueOrThrow({ where: { email: `dana.scully@${acme.slug}.example` } });
    expect(member).toMatchObject({ user: { id: gid(stored), email: stored.email, name: 'Dana Scully' }, role: 'ADMIN' });
    expect(stored.name).toBe('Dana Scully');
    expect(await roleOf(acme, stored)).toBe('ADMIN');
    expect(await h.system.prisma.membership.count({ where: { userId: stored.id } })).toBe(1);

    // The new member can use the gateway at once; the other organization cannot see it.
    const viewer = await h.execute(ViewerQuery, { token: await h.token(stored.id, acme.id) });
    expect(viewer.data?.viewer.role).toBe('ADMIN');
    const foreign = await h.execute(NodeQuery, { token: globex.owner.token, variables: { id: gid(stored) } });
    expect(foreign.data?.node).toBeNull();
    const globexMembers = await h.execute(MembersQuery, { token: globex.owner.token, variables: {} });
    expect(globexMembers.data?.members.edges.map((e) => e.node.user.id)).not.toContain(gid(stored));
  });

  it('adds as MEMBER when no role is given, and owners add too', async () => {
    const member = await addMember(acme.owner, `newcomer@${acme.slug}.example`);
    expect(member.role).toBe('MEMBER');
  });

  it('refuses an address outside its verified domains (inviteMember is for those), the same whether or not it has an account', async () => {
    const unknown = `nobody-${Date.now()}@example.test`;
    for (const email of [globex.member.email.toUpperCase(), unknown]) {
      const response = await h.execute(AddMember, { token: acme.admin.token, variables: { input: { email, role: 'ADMIN' } } });
      expect(errorCodes(response)).toEqual(['FAILED_PRECONDITION']);
      expect(response.errors?.[0].message).toBe(`addMember adds people with an email of the organization's verified domains only; invite ${email.trim().toLowerCase()} with inviteMember`);
    }
    expect(await roleOf(acme, globex.member)).toBeNull();
    expect(await h.system.prisma.user.count({ where: { email: unknown } })).toBe(0);
  });

  // Issue 13: membership is the organization's own, not the platform's: a support session may not change it.
  it("refuses addMember in a platform operator's support session, and adds nobody", async () => {
    const operator = await h.createPlatformOperator();
    const support = await h.token(operator.id, acme.id, { extraClaims: { platform: true, support: true } });
    const response = await h.execute(AddMember, { token: support, variables: { input: { email: globex.member.email, role: 'MEMBER' } } });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.errors?.[0].extensions?.reason).toBe('SUPPORT_SESSION_REFUSED');
    expect(await roleOf(acme, globex.member)).toBeNull();
  });

  it('refuses a member of the organization with BAD_USER_INPUT naming input.email, and changes nothing', async () => {
    const email = `twice@${acme.slug}.example`;
    await addMember(acme.admin, email);
    const before = await rolesIn(acme);
    const response = await h.execute(AddMember, { token: acme.admin.token, variables: { input: { email: email.toUpperCase(), role: 'ADMIN' } } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions?.fields).toEqual([{ field: 'input.email', message: 'is already a member of this organization' }]);
    expect(await rolesIn(acme)).toEqual(before);
  });

  it.each([
    ['an invalid email', { email: 'not-an-email' }, 'input.email', 'must be an email address'],
    ['role OWNER', { email: 'would-be-owner@members.example', role: 'OWNER' as const }, 'input.role', 'cannot be OWNER: the owner hands the organization over with transferOwnership'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_, input, field, message) => {
    const before = await rolesIn(acme);
    for (const by of [acme.owner, acme.admin]) {
      const response = await h.execute(AddMember, { token: by.token, variables: { input } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0].extensions?.fields).toEqual([{ field, message }]);
    }
    expect(await rolesIn(acme)).toEqual(before);
    expect(await h.system.prisma.user.count({ where: { email: input.email } })).toBe(0);
  });

  it('is FORBIDDEN to members, and writes nothing', async () => {
    const email = `intruder@${acme.slug}.example`;
    const response = await h.execute(AddMember, { token: acme.member.token, variables: { input: { email } } });
    expectError(response, 'FORBIDDEN', 'Requires the role OWNER or ADMIN');
    expect(await h.system.prisma.user.count({ where: { email } })).toBe(0);
  });
});

describe('updateMember', () => {
  it('lets owners and admins promote members and demote admins, in their organization only', async () => {
    const promoted = await h.execute(UpdateMember, { token: acme.admin.token, variables: { input: { userId: gid(acme.member), role: 'ADMIN' } } });
    expect(promoted.data?.updateMember.member).toEqual({ user: { id: gid(acme.member), email: acme.member.email }, role: 'ADMIN' });
    const demoted = await h.execute(UpdateMember, { token: acme.owner.token, variables: { input: { userId: gid(acme.admin), role: 'MEMBER' } } });
    expect(demoted.data?.updateMember.member.role).toBe('MEMBER');
    expect(await rolesIn(acme)).toEqual({ [acme.owner.id]: 'OWNER', [acme.admin.id]: 'MEMBER', [acme.member.id]: 'ADMIN' });
    expect(await rolesIn(globex)).toEqual(asCreated(globex));
  });

  it('lets an admin demote another admin, and itself', async () => {
    const other = await h.createUser(acme.id, 'ADMIN');
    const response = await h.execute(UpdateMember, { token: acme.admin.token, variables: { input: { userId: gid(other), role: 'MEMBER' } } });
    expect(response.errors).toBeUndefined();
    const self = await h.execute(UpdateMember, { token: acme.admin.token, variables: { input: { userId: gid(acme.admin), role: 'MEMBER' } } });
    expect(self.data?.updateMember.member.role).toBe('MEMBER');
    expect(await roleOf(acme, other)).toBe('MEMBER');
    expect(await roleOf(acme, acme.admin)).toBe('MEMBER');
  });

  it("answers NOT_FOUND \"Member not found\" alike for another organization's member and a missing user, and changes nothing", async () => {
    const foreign = await h.execute(UpdateMember, { token: acme.owner.token, variables: { input: { userId: gid(globex.admin), role: 'MEMBER' } } });
    const foreignOwner = await h.execute(UpdateMember, { token: acme.admin.token, variables: { input: { userId: gid(globex.owner), role: 'MEMBER' } } });
    const missing = await h.execute(UpdateMember, { token: acme.owner.token, variables: { input: { userId: MISSING_USER, role: 'MEMBER' } } });
    expectMemberNotFound(foreign);
    expect(foreignOwner).toEqual(foreign);
    expect(missing).toEqual(foreign);
    expect(await rolesIn(globex)).toEqual(asCreated(globex));
  });

  it('refuses to demote the owner, to admins and to the owner itself: FAILED_PRECONDITION, transfer first', async () => {
    for (const by of [acme.admin, acme.owner]) {
      const response = await h.execute(UpdateMember, { token: by.token, variables: { input: { userId: gid(acme.owner), role: 'ADMIN' } } });
      expectError(response, 'FAILED_PRECONDITION', TRANSFER_FIRST);
    }
    expect(await roleOf(acme, acme.owner)).toBe('OWNER');
  });

  it('lets nobody make an owner: role OWNER is BAD_USER_INPUT, for admins and owners alike', async () => {
    for (const [by, target] of [[acme.admin, acme.member], [acme.owner, acme.admin], [acme.admin, acme.admin]] as const) {
      const response = await h.execute(UpdateMember, { token: by.token, variables: { input: { userId: gid(target), role: 'OWNER' } } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0].extensions?.fields).toEqual([
        { field: 'input.role', message: 'cannot be OWNER: the owner hands the organization over with transferOwnership' },
      ]);
    }
    expect(await rolesIn(acme)).toEqual(asCreated(acme));
  });

  it('is FORBIDDEN to members, for others and for themselves', async () => {
    const others = await h.execute(UpdateMember, { token: acme.member.token, variables: { input: { userId: gid(acme.admin), role: 'MEMBER' } } });
    expectError(others, 'FORBIDDEN', 'Requires the role OWNER or ADMIN');
    const self = await h.execute(UpdateMember, { token: acme.member.token, variables: { input: { userId: gid(acme.member), role: 'ADMIN' } } });
    expectError(self, 'FORBIDDEN', 'Requires the role OWNER or ADMIN');
    expect(await rolesIn(acme)).toEqual(asCreated(acme));
  });

  it('refuses a malformed id or the id of another type with BAD_USER_INPUT naming input.userId', async () => {
    const malformed = await h.execute(UpdateMember, { token: acme.owner.token, variables: { input: { userId: 'nope', role: 'ADMIN' } } });
    expect(malformed.errors?.[0].extensions?.fields).toEqual([{ field: 'input.userId', message: 'is not a valid ID' }]);
    const project = await h.execute(UpdateMember, {
      token: acme.owner.token,
      variables: { input: { userId: encodeGlobalID('Project', acme.member.id), role: 'ADMIN' } },
    });
    expect(project.errors?.[0].extensions?.fields).toEqual([{ field: 'input.userId', message: 'is not a User ID' }]);
  });
});

describe('removeMember', () => {
  it('lets admins and owners remove members and admins; a removed member loses access at once', async () => {
    const removed = await h.execute(RemoveMember, { token: acme.admin.token, variables: { input: { userId: gid(acme.member) } } });
    expect(removed.data?.removeMember.removedUserId).toBe(gid(acme.member));
    const other = await h.createUser(acme.id, 'ADMIN');
    const byOwner = await h.execute(RemoveMember, { token: acme.owner.token, variables: { input: { userId: gid(other) } } });
    expect(byOwner.errors).toBeUndefined();
    expect(await rolesIn(acme)).toEqual({ [acme.owner.id]: 'OWNER', [acme.admin.id]: 'ADMIN' });

    const after = await h.execute(ViewerQuery, { token: acme.member.token });
    expect(after.status).toBe(403);
    expect(errorCodes(after)).toEqual(['FORBIDDEN']);
    // The identity itself stays: it may belong to other organizations.
    expect(await h.system.prisma.user.count({ where: { id: acme.member.id } })).toBe(1);
  });

  it('lets any member but the owner leave: remove itself', async () => {
    for (const user of [acme.member, acme.admin]) {
      const response = await h.execute(RemoveMember, { token: user.token, variables: { input: { userId: gid(user) } } });
      expect(response.data?.removeMember.removedUserId).toBe(gid(user));
    }
    expect(await rolesIn(acme)).toEqual({ [acme.owner.id]: 'OWNER' });
  });

  it('refuses to remove the owner, to admins and to the owner itself: FAILED_PRECONDITION, transfer first', async () => {
    for (const by of [acme.admin, acme.owner]) {
      const response = await h.execute(RemoveMember, { token: by.token, variables: { input: { userId: gid(acme.owner) } } });
      expectError(response, 'FAILED_PRECONDITION', TRANSFER_FIRST);
    }
    expect(await roleOf(acme, acme.owner)).toBe('OWNER');
  });

  it("answers NOT_FOUND \"Member not found\" alike for another organization's member and a missing user, and removes nothing", async () => {
    const foreign = await h.execute(RemoveMember, { token: acme.owner.token, variables: { input: { userId: gid(globex.member) } } });
    const missing = await h.execute(RemoveMember, { token: acme.owner.token, variables: { input: { userId: MISSING_USER } } });
    expectMemberNotFound(foreign);
    expect(missing).toEqual(foreign);
    expect(await rolesIn(globex)).toEqual(asCreated(globex));
  });

  it('is FORBIDDEN to members for anyone but themselves', async () => {
    const other = await h.createUser(acme.id, 'MEMBER');
    for (const target of [other, acme.admin]) {
      const response = await h.execute(RemoveMember, { token: acme.member.token, variables: { input: { userId: gid(target) } } });
      expectError(response, 'FORBIDDEN', 'Requires the role OWNER or ADMIN');
    }
    expect(Object.keys(await rolesIn(acme))).toHaveLength(4);
  });

  it('refuses a member who still owns projects with FAILED_PRECONDITION', async () => {
    await h.system.prisma.project.create({ data: { organizationId: acme.id, name: 'Kept', ownerId: acme.member.id } });
    const response = await h.execute(RemoveMember, { token: acme.admin.token, variables: { input: { userId: gid(acme.member) } } });
    expectError(response, 'FAILED_PRECONDITION', 'This member still owns projects: delete them first');
    expect(await roleOf(acme, acme.member)).toBe('MEMBER');
  });
});

describe('transferOwnership', () => {
  it('makes a member the owner and the owner an admin, in its organization only', async () => {
    const response = await h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(acme.member) } } });
    expect(response.data?.transferOwnership).toEqual({
      owner: { user: { id: gid(acme.member) }, role: 'OWNER' },
      previousOwner: { user: { id: gid(acme.owner) }, role: 'ADMIN' },
    });
    expect(await rolesIn(acme)).toEqual({ [acme.owner.id]: 'ADMIN', [acme.admin.id]: 'ADMIN', [acme.member.id]: 'OWNER' });
    expect(await rolesIn(globex)).toEqual(asCreated(globex));

    // The roles are read per request: the former owner may no longer transfer, the new one may.
    const formerOwner = await h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(acme.owner) } } });
    expectError(formerOwner, 'FORBIDDEN', 'Requires the role OWNER');
    const back = await h.execute(TransferOwnership, { token: acme.member.token, variables: { input: { newOwnerId: gid(acme.owner) } } });
    expect(back.errors).toBeUndefined();
    expect(await rolesIn(acme)).toEqual({ [acme.owner.id]: 'OWNER', [acme.admin.id]: 'ADMIN', [acme.member.id]: 'ADMIN' });
  });

  it('needs the new owner to be a member: another organization\'s member or a missing user is NOT_FOUND, and the demotion is rolled back', async () => {
    const foreign = await h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(globex.member) } } });
    const missing = await h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: MISSING_USER } } });
    expectMemberNotFound(foreign);
    expect(missing).toEqual(foreign);
    // The owner's demotion ran first in the same transaction; it did not stay.
    expect(await rolesIn(acme)).toEqual(asCreated(acme));
    expect(await rolesIn(globex)).toEqual(asCreated(globex));
  });

  it('is FORBIDDEN to admins and members', async () => {
    for (const by of [acme.admin, acme.member]) {
      const response = await h.execute(TransferOwnership, { token: by.token, variables: { input: { newOwnerId: gid(by) } } });
      expectError(response, 'FORBIDDEN', 'Requires the role OWNER');
    }
    expect(await roleOf(acme, acme.owner)).toBe('OWNER');
  });

  it('refuses a transfer to the owner itself with FAILED_PRECONDITION', async () => {
    const response = await h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(acme.owner) } } });
    expectError(response, 'FAILED_PRECONDITION', 'You already own this organization');
    expect(await roleOf(acme, acme.owner)).toBe('OWNER');
  });

  it('leaves exactly one owner when two transfers race', async () => {
    const [toAdmin, toMember] = await Promise.all([
      h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(acme.admin) } } }),
      h.execute(TransferOwnership, { token: acme.owner.token, variables: { input: { newOwnerId: gid(acme.member) } } }),
    ]);
    const winners = [toAdmin, toMember].filter((r) => r.errors === undefined);
    const losers = [toAdmin, toMember].filter((r) => r.errors !== undefined);
    expect(winners).toHaveLength(1);
    // Refused by the role check if it started after the winner committed, else by the transfer itself.
    expect(['FAILED_PRECONDITION', 'FORBIDDEN']).toContain(errorCodes(losers[0])[0]);
    const roles = await rolesIn(acme);
    expect(Object.values(roles).filter((role) => role === 'OWNER')).toHaveLength(1);
    expect(roles[acme.owner.id]).toBe('ADMIN');
    const newOwner = winners[0] === toAdmin ? acme.admin : acme.member;
    expect(roles[newOwner.id]).toBe('OWNER');
  });
});

describe('the database backstops', () => {
  type Write = (db: TenantClient, org: TestOrganization) => Promise<unknown>;
  const key = (org: TestOrganization, user: TestUser) => ({ organizationId_userId: { organizationId: org.id, userId: user.id } });
  const writes: [string, Write][] = [
    ['deleting the owner (the deferred trigger, at COMMIT)', (db, org) => db.membership.delete({ where: key(org, org.owner) })],
    [
      'demoting the owner in a transaction (the deferred trigger)',
      (db, org) => db.$transaction((tx) => tx.membership.update({ where: key(org, org.owner), data: { role: 'ADMIN' } })),
    ],
    ['a second owner (the unique index)', (db, org) => db.membership.update({ where: key(org, org.admin), data: { role: 'OWNER' } })],
    ['a second owner in raw SQL (the unique index, P2010)', (db, org) => db.$executeRaw`UPDATE memberships SET role = 'OWNER' WHERE user_id = ${org.admin.id}::uuid`],
  ];

  // The mutations check the rules first; these writes skip the checks, as a
  // race would, to prove that what the database refuses still reads clearly.
  it.each(writes)('turns %s into FAILED_PRECONDITION, and nothing changes', async (_, write) => {
    const db = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id });
    await expect(enforcingRules(() => write(db, acme))).rejects.toMatchObject({
      message: expect.stringMatching(/owner/),
      extensions: { code: 'FAILED_PRECONDITION' },
    });
    expect(await rolesIn(acme)).toEqual(asCreated(acme));
  });
});

describe('viewer.organizations', () => {
  it('lists every organization of a user of two, with its role there, marking the active one', async () => {
    await h.system.prisma.membership.create({ data: { organizationId: acme.id, userId: globex.member.id, role: 'ADMIN' } });
    const expected = (active: string) => [
      { id: encodeGlobalID('Organization', acme.id), slug: acme.slug, name: 'Acme', role: 'ADMIN', joinedAt: expect.any(String), active: active === acme.id },
      { id: encodeGlobalID('Organization', globex.id), slug: globex.slug, name: 'Globex', role: 'MEMBER', joinedAt: expect.any(String), active: active === globex.id },
    ];
    const fromGlobex = await h.execute(ViewerOrganizations, { token: globex.member.token });
    expect(fromGlobex.data?.viewer.organizations).toEqual(expected(globex.id));
    const fromAcme = await h.execute(ViewerOrganizations, { token: await h.token(globex.member.id, acme.id) });
    expect(fromAcme.data?.viewer.organizations).toEqual(expected(acme.id));

    // Everyone else sees only their own memberships.
    const acmeOwner = await h.execute(ViewerOrganizations, { token: acme.owner.token });
    expect(acmeOwner.data?.viewer.organizations).toEqual([expect.objectContaining({ slug: acme.slug, role: 'OWNER', active: true })]);
  });
});

describe('seats follow members', () => {
  it('adds a seat when a member joins past the paid seats, and never touches another organization', async () => {
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { seats: 3 } });
    const response = await h.execute(AddMember, { token: acme.admin.token, variables: { input: { email: `seat-${Date.now()}@${acme.slug}.example`, role: 'MEMBER' } } });
    expect(response.errors).toBeUndefined();
    const [ours, theirs] = await Promise.all([
      h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: acme.id } }),
      h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: globex.id } }),
    ]);
    expect(ours.seats).toBe(4);
    expect(theirs.seats).toBe(5);
  });

  it('leaves the seats alone while there are enough', async () => {
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { seats: 5 } });
    await h.execute(AddMember, { token: acme.admin.token, variables: { input: { email: `seat-${Date.now()}@${acme.slug}.example`, role: 'MEMBER' } } });
    expect((await h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: acme.id } })).seats).toBe(5);
  });
});
