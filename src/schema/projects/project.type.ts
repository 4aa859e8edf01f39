import { z } from 'zod';
import { ProjectStatus } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import type { Context } from '../../context';
import { refusalOf } from '../../db/database-errors';
import { forbidden, notFound } from '../../errors';
import { Department } from '../departments/department.type';
import { asUser, User, USER_COLUMNS } from '../users/user.type';
import { ownerForWrites } from '../../support/sessions';
import { enumEquals } from '../../tenancy/shareable';
import { registerEnum, tenantModel } from '../../tenancy/tenant-model';

export const ProjectStatusEnum = builder.enumType(ProjectStatus, { name: 'ProjectStatus' });
registerEnum('ProjectStatus', ProjectStatusEnum);

const projectName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

/** The department a project would be restricted to, as the caller sees it: its name for the error below. */
function findDepartment(ctx: Context, departmentId: string): Promise<{ name: string } | null> {
  return ctx.tenantDb().department.findFirst({ where: { id: departmentId }, select: { name: true } });
}

/**
 * The error for a write whose department restriction the database refused (null:
 * tenantModel's own translation). The restriction itself is the database's: the
 * foreign key (organization_id, restricted_to_department_id) matches only the
 * caller's organization's departments (NOT_FOUND, tenantModel's), and the
 * department_restriction policy's WITH CHECK refuses a row its writer could not
 * see afterwards (a member restricting to a department outside its own path).
 * A create reads the department first: it runs in the quota check's
 * transaction, which a refused INSERT aborts.
 */
async function restrictionRefusal(ctx: Context, input: Record<string, unknown>, operation: 'create' | 'update') {
  const departmentId = input.restrictedToDepartmentId == null ? null : String(input.restrictedToDepartmentId);
  const early = departmentId && operation === 'create' ? await findDepartment(ctx, departmentId) : null;
  return async (error: unknown): Promise<unknown> => {
    // RLS checks the row before the foreign key does: a missing department looks the same here.
    if (!departmentId || refusalOf(error) !== 'policyRefused') return null;
    const found = operation === 'create' ? early : await findDepartment(ctx, departmentId);
    if (!found) return notFound('Department');
    return forbidden(`A project restricted to "${found.name}" would be hidden from you: restrict it to your own department or one above it`);
  };
}

/**
 * Projects: the model with the most rules, through tenantModel — the PROJECTS
 * quota, department restriction (a policy), owner (the caller, a composite
 * foreign key), and sharing (shareable: scope, ownerOrganization,
 * viewerPermissions, WRITE grantees).
 */
export const Project = tenantModel('Project', {
  expose: ['name', 'status', 'createdAt', 'updatedAt'],
  fields: (t) => ({
    owner: t.field({
      type: User,
      nullable: true,
      description:
        "A member of the project's organization (a composite foreign key guarantees it). Null on another organization's shared or public project: its members are not yours to see.",
      // PERF: selected with the project, so Pothos joins the owner into the query
      // of the page (or of the project): one statement for a page and its owners.
      // A project loaded without it (a mutation's payload) gets it through Pothos'
      // per-request batched loader, one statement for all of them.
      // (The owner is a membership, whose user is the User; `ownerUser` is that
      // user, joined directly: migration 20261127060000_projects_owner_user.)
      select: { ownerUser: { select: USER_COLUMNS } },
      resolve: (project: { organizationId: string; ownerUser: Parameters<typeof asUser>[0] | null }, _args: unknown, ctx: Context) =>
        project.organizationId === ctx.viewer!.organizationId && project.ownerUser ? asUser(project.ownerUser) : null,
    }),
    restrictedToDepartment: t.relation('restrictedToDepartment', {
      type: Department,
      nullable: true,
      description:
        'When set, the project exists only for owners, admins and the members of this department or of its sub-departments: for everyone else it is not found.',
    }),
  }),
  // What `fields` read from the row (the list and the get read only what their selection needs).
  fieldColumns: { owner: ['ownerId'], restrictedToDepartment: ['restrictedToDepartmentId'] },
  listArgs: {
    status: { type: ProjectStatusEnum, where: (status: ProjectStatus) => ({ status }), sql: (status: ProjectStatus) => enumEquals('status', 'ProjectStatus', status) },
  },
  create: { name: projectName, status: true, restrictedToDepartmentId: true },
  // A support session's project is the organization owner's (src/support/sessions.ts).
  createData: async (ctx) => ({ ownerId: await ownerForWrites(ctx) }),
  update: { name: projectName, status: true, restrictedToDepartmentId: true },
  refusal: restrictionRefusal,
  delete: true,
  quota: 'PROJECTS',
  shareable: true,
});
