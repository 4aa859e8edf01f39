import type { SystemDatabase } from '../db/system';
import type { Plan, Role } from '../generated/prisma/enums';

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

export async function recordAudit(system: SystemDatabase, entry: AuditEntry): Promise<void> {
  await system.prisma.platformAuditLog.create({
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

/** Creates an organization with its subscription, domains and first members, in one transaction. */
export async function createOrganization(system: SystemDatabase, input: NewOrganization): Promise<CreatedOrganization> {
  return system.prisma.$transaction(async (tx) => {
    const organization = await tx.organization.create({
      data: {
        name: input.name,
        slug: input.slug,
        subscription: { create: { plan: input.plan ?? 'FREE' } },
        domains: { create: (input.domains ?? []).map((domain) => ({ domain })) },
      },
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
    return { id: organization.id, slug: organization.slug, name: organization.name, users };
  });
}
