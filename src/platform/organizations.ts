import { decodeJwt } from 'jose';
import type { SupportTokenSigner } from '../context';
import { recordSupportSessionStarted } from '../audit/support-sessions';
import type { SystemDatabase } from '../db/system';
import type { Prisma } from '../generated/prisma/client';
import type { Plan, Role } from '../generated/prisma/enums';
import { refusalOf } from '../db/database-errors';
import { alreadyExists, notFound } from '../errors';

/**
 * Platform-level operations: they cross organizations, so they run on the
 * system client (the admin role), never on a tenant client. Used by the
 * platform operator's mutations, the seed and the tests.
 */

export interface AuditEntry {
  actorUserId: string;
  action: string;
  subjectOrganizationId?: string | null;
  reason: string;
  details?: Record<string, unknown>;
}

/** Who acts and why: what every platform operation is given, and records. */
export type PlatformAction = Omit<AuditEntry, 'action' | 'subjectOrganizationId'>;

export async function recordAudit(system: SystemDatabase | Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  const db = 'prisma' in system ? system.prisma : system;
  await db.platformAuditLog.create({
    data: {
      actorUserId: entry.actorUserId,
      action: entry.action,
      subjectOrganizationId: entry.subjectOrganizationId ?? null,
      reason: entry.reason,
      details: (entry.details ?? {}) as object,
    },
  });
}

export interface NewOrganization {
  name: string;
  slug: string;
  plan?: Plan;
  domains?: string[];
  /** The first owner, created as a user when the email is new. */
  owner?: { email: string; name?: string };
  /** Extra members, e.g. for the demo and the tests. */
  members?: { email: string; name?: string; role: Exclude<Role, 'OWNER'> }[];
}

export interface CreatedOrganization {
  id: string;
  slug: string;
  name: string;
  /** User ids by email. */
  users: Map<string, string>;
}

/** Display name for an identity created from an email address: `carol.chen@x` → "Carol Chen". */
export function nameFromEmail(email: string): string {
  return email
    .split('@')[0]
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join(' ');
}

/**
 * Creates an organization with its subscription, domains and first members, in
 * one transaction; with `audit`, its 'organization.create' audit row too, so
 * there is never an organization that the log does not explain.
 * A taken slug is ALREADY_EXISTS.
 */
export async function createOrganization(system: SystemDatabase, input: NewOrganization, audit?: PlatformAction): Promise<CreatedOrganization> {
  return system.prisma.$transaction(async (tx) => {
    const organization = await tx.organization
      .create({
        data: {
          name: input.name,
          slug: input.slug,
          subscription: { create: { plan: input.plan ?? 'FREE' } },
          domains: { create: (input.domains ?? []).map((domain) => ({ domain })) },
        },
      })
      .catch((error: unknown) => {
        if (refusalOf(error) === 'organizationSlugTaken') {
          throw alreadyExists(`An organization with slug "${input.slug}" already exists`, { field: 'input.slug' });
        }
        throw error;
      });
    const users = new Map<string, string>();
    const people: { email: string; name?: string; role: Role }[] = [
      ...(input.owner ? [{ ...input.owner, role: 'OWNER' as Role }] : []),
      ...(input.members ?? []),
    ];
    for (const person of people) {
      const email = person.email.trim().toLowerCase();
      const user = await tx.user.upsert({
        where: { email },
        create: { email, name: person.name ?? nameFromEmail(email) },
        update: {},
      });
      users.set(email, user.id);
      await tx.membership.create({ data: { organizationId: organization.id, userId: user.id, role: person.role } });
    }
    if (audit) {
      await recordAudit(tx, {
        ...audit,
        action: 'organization.create',
        subjectOrganizationId: organization.id,
        details: { slug: input.slug, plan: input.plan ?? 'FREE', domains: input.domains ?? [], owner: input.owner?.email ?? null, ...audit.details },
      });
    }
    return { id: organization.id, slug: organization.slug, name: organization.name, users };
  });
}

/** A user as the platform sees it, across organizations. */
export interface PlatformUser {
  id: string;
  email: string;
  name: string;
}

/** An organization as the platform sees it: what an operator needs to find it and help it. */
export interface OrganizationSummary {
  id: string;
  slug: string;
  name: string;
  plan: Plan;
  domains: string[];
  memberCount: number;
  owner: PlatformUser | null;
  createdAt: Date;
}

// PERF: one statement for the page of organizations and one per relation
// (subscription, domains, owner, member counts), whatever the page size.
const summarySelect = {
  id: true,
  slug: true,
  name: true,
  createdAt: true,
  subscription: { select: { plan: true } },
  domains: { select: { domain: true }, orderBy: { domain: 'asc' } },
  memberships: { where: { role: 'OWNER' }, select: { user: { select: { id: true, email: true, name: true } } }, take: 1 },
  _count: { select: { memberships: true } },
} satisfies Prisma.OrganizationSelect;

function toSummary(row: Prisma.OrganizationGetPayload<{ select: typeof summarySelect }>): OrganizationSummary {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.subscription?.plan ?? 'FREE',
    domains: row.domains.map((d) => d.domain),
    memberCount: row._count.memberships,
    owner: row.memberships[0]?.user ?? null,
    createdAt: row.createdAt,
  };
}

/** A keyset page: rows after/before a cursor, `limit` of them, read backwards when `inverted` (Relay's last/before). */
export interface KeysetPage<Cursor> {
  after?: Cursor;
  before?: Cursor;
  limit: number;
  inverted: boolean;
}

/** Organizations by slug (a keyset on the unique slug index), optionally those whose slug or name contains `search`. */
export async function listOrganizations(
  system: SystemDatabase,
  page: KeysetPage<string> & { search?: string | null },
  audit: PlatformAction,
): Promise<OrganizationSummary[]> {
  await recordAudit(system, { ...audit, action: 'organization.list', details: { search: page.search ?? null, ...audit.details } });
  const search = page.search ? { contains: page.search, mode: 'insensitive' as const } : undefined;
  const rows = await system.prisma.organization.findMany({
    select: summarySelect,
    where: {
      slug: { gt: page.after, lt: page.before },
      ...(search ? { OR: [{ slug: search }, { name: search }] } : {}),
    },
    orderBy: { slug: page.inverted ? 'desc' : 'asc' },
    take: page.limit,
  });
  return rows.map(toSummary);
}

/** The organizations with these ids that exist, by id. */
export async function organizationsById(system: SystemDatabase, ids: readonly string[]): Promise<Map<string, OrganizationSummary>> {
  const rows = ids.length ? await system.prisma.organization.findMany({ select: summarySelect, where: { id: { in: [...ids] } } }) : [];
  return new Map(rows.map((row) => [row.id, toSummary(row)]));
}

export interface SupportSession {
  token: string;
  expiresAt: Date;
  organization: OrganizationSummary;
}

/**
 * A platform operator's support session in an organization: a short-lived
 * token with which the operator acts as an admin there without being a member.
 * Recorded before the token is handed out: no unexplained session.
 */
export async function startSupportSession(
  system: SystemDatabase,
  { organizationId, sign }: { organizationId: string; sign: SupportTokenSigner },
  audit: PlatformAction,
): Promise<SupportSession> {
  const organization = (await organizationsById(system, [organizationId])).get(organizationId);
  if (!organization) throw notFound('Organization');
  const { token, expiresAt } = await sign({ operatorId: audit.actorUserId, organizationId });
  const sessionId = decodeJwt(token).jti ?? null;
  // The platform's record and the organization's (its audit log and outbox), together.
  await system.prisma.$transaction(async (tx) => {
    await recordAudit(tx, {
      ...audit,
      action: 'support.start',
      subjectOrganizationId: organizationId,
      // The session's id, the token's jti: its mutations are recorded under it (src/plugins/use-support-sessions.ts).
      details: { expiresAt: expiresAt.toISOString(), sessionId, ...audit.details },
    });
    await recordSupportSessionStarted(tx, { organizationId, operatorId: audit.actorUserId, sessionId, reason: audit.reason, expiresAt });
  });
  return { token, expiresAt, organization };
}
