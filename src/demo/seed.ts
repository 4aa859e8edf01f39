import type { SystemDatabase } from '../db/system';
import type { ProjectStatus, Role, TaskStatus } from '../generated/prisma/enums';
import { generateInvoices } from '../billing/invoicing';
import { isoDate, previousPeriod } from '../billing/period';
import { createOrganization } from '../platform/organizations';
import { maskSecret } from '../settings';

/**
 * The demo dataset: two organizations with their people, departments, settings
 * and projects, one of them restricted to a department. Idempotent: when the demo
 * organizations exist, it changes nothing.
 */
export const DEMO = {
  organizations: [
    {
      slug: 'acme',
      name: 'Acme Corporation',
      plan: 'PRO' as const,
      domains: ['acme.example'],
      settings: {
        branding: { logo: 'https://cdn.acme.example/logo.png', primaryColor: '#FF6B35', customDomain: 'app.acme.example' },
        security: { sessionTimeout: 43_200 },
        features: { advancedAnalytics: true, webhooks: true },
        // Off in the demo: its key is not a real one, and the event worker would post to Datadog and Slack.
        integrations: { slack: { channel: '#engineering', enabled: false }, datadog: { enabled: false } },
      },
      secrets: { 'integrations.datadog.apiKey': 'dd_demo_key_not_a_real_one_abc' },
      departments: [
        { name: 'Engineering', parent: null },
        { name: 'Backend', parent: 'Engineering' },
        { name: 'Marketing', parent: null },
      ],
    },
    {
      slug: 'globex',
      name: 'Globex',
      plan: 'FREE' as const,
      domains: ['globex.example'],
      settings: { branding: { primaryColor: '#2E7D32' } },
      secrets: {},
      departments: [],
    },
  ],
  /** The organization with usage and an invoice to show (see seedBilling). */
  billing: { org: 'acme', addOns: ['advanced-analytics'] },
  users: [
    { email: 'alice@acme.example', name: 'Alice Anders', org: 'acme', role: 'OWNER' as Role, department: null },
    { email: 'carol@acme.example', name: 'Carol Chen', org: 'acme', role: 'MEMBER' as Role, department: 'Backend' },
    { email: 'dave@acme.example', name: 'Dave Diaz', org: 'acme', role: 'MEMBER' as Role, department: 'Marketing' },
    { email: 'bob@globex.example', name: 'Bob Brown', org: 'globex', role: 'OWNER' as Role, department: null },
  ],
  projects: [
    { org: 'acme', owner: 'alice@acme.example', name: 'Website Redesign', status: 'ACTIVE' as ProjectStatus, restrictedTo: null },
    { org: 'acme', owner: 'carol@acme.example', name: 'Mobile App', status: 'ACTIVE' as ProjectStatus, restrictedTo: null },
    { org: 'acme', owner: 'alice@acme.example', name: 'Q3 Marketing Site', status: 'COMPLETED' as ProjectStatus, restrictedTo: null },
    { org: 'acme', owner: 'carol@acme.example', name: 'Legacy CRM Export', status: 'ARCHIVED' as ProjectStatus, restrictedTo: null },
    // Visible to alice (owner) and carol (Backend, under Engineering); not to dave (Marketing).
    { org: 'acme', owner: 'carol@acme.example', name: 'Payments Rewrite', status: 'ACTIVE' as ProjectStatus, restrictedTo: 'Engineering' },
    { org: 'globex', owner: 'bob@globex.example', name: 'Hammock Factory', status: 'ACTIVE' as ProjectStatus, restrictedTo: null },
    { org: 'globex', owner: 'bob@globex.example', name: 'Doomsday Device', status: 'ARCHIVED' as ProjectStatus, restrictedTo: null },
  ],
  /** Sharing across organizations (README, "Files and sharing"): grants by slug, public templates. */
  sharing: {
    projects: [{ org: 'globex', project: 'Hammock Factory', with: 'acme', write: false }],
    templates: [
      { org: 'globex', name: 'Launch checklist', description: 'Everything before a launch, in order.', visibility: 'PUBLIC' as const },
      { org: 'acme', name: 'Kickoff agenda', description: 'Goals, people, dates.', visibility: 'PRIVATE' as const },
    ],
  },
  /** Tasks (the worked example of a model of your own, src/schema/tasks/), by project name. */
  tasks: [
    { org: 'acme', project: 'Website Redesign', title: 'Pick the new typeface', status: 'DONE' as TaskStatus, assignee: 'alice@acme.example', dueDate: '2026-11-20' },
    { org: 'acme', project: 'Website Redesign', title: 'Write the launch post', status: 'IN_PROGRESS' as TaskStatus, assignee: 'dave@acme.example', dueDate: '2026-12-18' },
    { org: 'acme', project: 'Mobile App', title: 'Offline mode', status: 'TODO' as TaskStatus, assignee: 'carol@acme.example', dueDate: null },
    { org: 'acme', project: 'Payments Rewrite', title: 'Idempotency keys', status: 'TODO' as TaskStatus, assignee: 'carol@acme.example', dueDate: '2027-01-15' },
    { org: 'globex', project: 'Hammock Factory', title: 'Order more canvas', status: 'TODO' as TaskStatus, assignee: null, dueDate: null },
  ],
};

export async function seedDemo(system: SystemDatabase): Promise<{ created: boolean }> {
  const db = system.prisma;
  const existing = await db.organization.count({ where: { slug: { in: DEMO.organizations.map((o) => o.slug) } } });
  if (existing > 0) return { created: false };

  const users = new Map<string, string>();
  for (const org of DEMO.organizations) {
    const people = DEMO.users.filter((u) => u.org === org.slug);
    const owner = people.find((u) => u.role === 'OWNER')!;
    const created = await createOrganization(system, {
      name: org.name,
      slug: org.slug,
      plan: org.plan,
      domains: org.domains,
      owner: { email: owner.email, name: owner.name },
      members: people.filter((u) => u.role !== 'OWNER').map((u) => ({ email: u.email, name: u.name, role: u.role as Exclude<Role, 'OWNER'> })),
    });
    for (const [email, id] of created.users) users.set(email, id);

    await db.$transaction(async (tx) => {
      // A domain that another organization verified first stays theirs (the first verified wins).
      const taken = await tx.organizationDomain.findMany({ where: { domain: { in: org.domains }, verified: true }, select: { domain: true } });
      await tx.organizationDomain.updateMany({
        where: { organizationId: created.id, domain: { notIn: taken.map((d) => d.domain) } },
        data: { verified: true, verifiedAt: new Date(), verifiedMethod: 'DNS' },
      });
      await tx.organization.update({ where: { id: created.id }, data: { settings: org.settings } });
      for (const [name, value] of Object.entries(org.secrets)) {
        await tx.organizationSecret.create({ data: { organizationId: created.id, name, value, masked: maskSecret(value) } });
      }
      const departments = new Map<string, string>();
      for (const department of org.departments) {
        const row = await tx.department.create({
          data: { organizationId: created.id, name: department.name, parentId: department.parent ? departments.get(department.parent) : null },
        });
        departments.set(department.name, row.id);
      }
      for (const person of people.filter((u) => u.department)) {
        await tx.membership.update({
          where: { organizationId_userId: { organizationId: created.id, userId: users.get(person.email)! } },
          data: { departmentId: departments.get(person.department!) },
        });
      }
      const projects = new Map<string, string>();
      for (const project of DEMO.projects.filter((p) => p.org === org.slug)) {
        const row = await tx.project.create({
          data: {
            organizationId: created.id,
            ownerId: users.get(project.owner)!,
            name: project.name,
            status: project.status,
            restrictedToDepartmentId: project.restrictedTo ? departments.get(project.restrictedTo) : null,
          },
        });
        projects.set(project.name, row.id);
      }
      for (const task of DEMO.tasks.filter((t) => t.org === org.slug)) {
        await tx.task.create({
          data: {
            organizationId: created.id,
            projectId: projects.get(task.project)!,
            title: task.title,
            status: task.status,
            assigneeId: task.assignee ? users.get(task.assignee)! : null,
            dueDate: task.dueDate ? new Date(task.dueDate) : null,
          },
        });
      }
    });
    if (org.slug === DEMO.billing.org) await seedBilling(system, created.id, new Date());
  }
  await seedSharing(system);
  return { created: true };
}

/** Once every organization exists: the grant (its trigger fills the row's arrays, as app.share would) and the templates. */
async function seedSharing(system: SystemDatabase): Promise<void> {
  const db = system.prisma;
  const orgs = new Map((await db.organization.findMany({ where: { slug: { in: DEMO.organizations.map((o) => o.slug) } } })).map((o) => [o.slug, o.id]));
  for (const grant of DEMO.sharing.projects) {
    const project = await db.project.findFirstOrThrow({ where: { organizationId: orgs.get(grant.org)!, name: grant.project } });
    await db.shareGrant.create({ data: { organizationId: project.organizationId, resource: 'projects', resourceId: project.id, granteeId: orgs.get(grant.with)!, canWrite: grant.write } });
    await db.project.update({ where: { organizationId_id: { organizationId: project.organizationId, id: project.id } }, data: { visibility: 'SHARED' } });
  }
  for (const template of DEMO.sharing.templates) {
    await db.template.create({ data: { organizationId: orgs.get(template.org)!, name: template.name, description: template.description, visibility: template.visibility } });
  }
}

/**
 * Billing history for the demo organization: usage every day from the first of
 * last month through yesterday, its add-ons, and last month's invoice, made by
 * the invoicing job itself. It is a customer since last month began, so that
 * last month is billable (invoicing skips organizations younger than the month).
 */
async function seedBilling(system: SystemDatabase, organizationId: string, now: Date): Promise<void> {
  const db = system.prisma;
  const lastMonth = previousPeriod(now);
  await db.organization.update({ where: { id: organizationId }, data: { createdAt: lastMonth.start } });
  await db.subscription.update({ where: { organizationId }, data: { addOns: DEMO.billing.addOns } });
  const days = Math.floor((Date.parse(isoDate(now)) - lastMonth.start.getTime()) / 86_400_000);
  await db.usageDaily.createMany({
    data: Array.from({ length: days }, (_, i) => ({
      organizationId,
      day: new Date(lastMonth.start.getTime() + i * 86_400_000),
      // Weekly rhythms, so that charts have a shape: ~4 GB and ~25 minutes of compute a day,
      // which takes a PRO plan a little past its allowance over a month.
      apiCalls: BigInt(1_200 + ((i * 37) % 400)),
      bandwidthBytes: 4n * 1024n ** 3n + BigInt((i % 7) * 150) * 1024n ** 2n,
      computeMs: BigInt(1_200_000 + (i % 5) * 180_000),
    })),
    skipDuplicates: true,
  });
  await generateInvoices(system, { period: lastMonth, now, organizationIds: [organizationId] });
}

/** Each demo user with the ids a token needs. */
export async function demoLogins(system: SystemDatabase): Promise<{ email: string; userId: string; organizationId: string; slug: string; role: Role }[]> {
  const memberships = await system.prisma.membership.findMany({
    where: { user: { email: { in: DEMO.users.map((u) => u.email) } } },
    include: { user: true, organization: true },
    orderBy: [{ organization: { slug: 'asc' } }, { role: 'asc' }, { user: { email: 'asc' } }],
  });
  return memberships.map((m) => ({
    email: m.user.email,
    userId: m.userId,
    organizationId: m.organizationId,
    slug: m.organization.slug,
    role: m.role,
  }));
}
