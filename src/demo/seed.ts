import type { SystemDatabase } from '../db/system';
import type { ProjectStatus, Role } from '../generated/prisma/enums';

/**
 * The demo dataset: two organizations, their people and a few projects each.
 * Idempotent: running it again changes nothing.
 */
export const DEMO = {
  organizations: [
    { slug: 'acme', name: 'Acme Corporation' },
    { slug: 'globex', name: 'Globex' },
  ],
  users: [
    { email: 'alice@acme.example', name: 'Alice Anders', org: 'acme', role: 'OWNER' as Role },
    { email: 'carol@acme.example', name: 'Carol Chen', org: 'acme', role: 'MEMBER' as Role },
    { email: 'bob@globex.example', name: 'Bob Brown', org: 'globex', role: 'OWNER' as Role },
  ],
  projects: [
    { org: 'acme', owner: 'alice@acme.example', name: 'Website Redesign', status: 'ACTIVE' as ProjectStatus },
    { org: 'acme', owner: 'carol@acme.example', name: 'Mobile App', status: 'ACTIVE' as ProjectStatus },
    { org: 'acme', owner: 'alice@acme.example', name: 'Q3 Marketing Site', status: 'COMPLETED' as ProjectStatus },
    { org: 'acme', owner: 'carol@acme.example', name: 'Legacy CRM Export', status: 'ARCHIVED' as ProjectStatus },
    { org: 'globex', owner: 'bob@globex.example', name: 'Hammock Factory', status: 'ACTIVE' as ProjectStatus },
    { org: 'globex', owner: 'bob@globex.example', name: 'Doomsday Device', status: 'ARCHIVED' as ProjectStatus },
  ],
};

export interface SeedResult {
  created: boolean;
}

export async function seedDemo(system: SystemDatabase): Promise<SeedResult> {
  const db = system.prisma;
  const existing = await db.organization.count({ where: { slug: { in: DEMO.organizations.map((o) => o.slug) } } });
  if (existing === DEMO.organizations.length) return { created: false };

  await db.$transaction(async (tx) => {
    const orgs = new Map<string, string>();
    for (const org of DEMO.organizations) {
      const row = await tx.organization.upsert({ where: { slug: org.slug }, create: org, update: {} });
      orgs.set(org.slug, row.id);
    }
    const users = new Map<string, string>();
    for (const user of DEMO.users) {
      const row = await tx.user.upsert({
        where: { email: user.email },
        create: { email: user.email, name: user.name },
        update: {},
      });
      users.set(user.email, row.id);
      await tx.membership.upsert({
        where: { organizationId_userId: { organizationId: orgs.get(user.org)!, userId: row.id } },
        create: { organizationId: orgs.get(user.org)!, userId: row.id, role: user.role },
        update: {},
      });
    }
    for (const project of DEMO.projects) {
      const organizationId = orgs.get(project.org)!;
      const found = await tx.project.findFirst({ where: { organizationId, name: project.name } });
      if (!found) {
        await tx.project.create({
          data: { organizationId, ownerId: users.get(project.owner)!, name: project.name, status: project.status },
        });
      }
    }
  });
  return { created: true };
}

/** Each demo user with the ids a token needs. */
export async function demoLogins(system: SystemDatabase): Promise<{ email: string; userId: string; organizationId: string; slug: string; role: Role }[]> {
  const memberships = await system.prisma.membership.findMany({
    where: { user: { email: { in: DEMO.users.map((u) => u.email) } } },
    include: { user: true, organization: true },
    orderBy: [{ organization: { slug: 'asc' } }, { role: 'asc' }],
  });
  return memberships.map((m) => ({
    email: m.user.email,
    userId: m.userId,
    organizationId: m.organizationId,
    slug: m.organization.slug,
    role: m.role,
  }));
}
