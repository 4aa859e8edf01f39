import { z } from 'zod';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ProjectStatus } from '../../generated/prisma/enums';
import type { Prisma } from '../../generated/prisma/client';
import { builder } from '../../builder';
import type { Context } from '../../context';
import { isRecordNotFound, refusalOf } from '../../db/database-errors';
import { forbidden, notFound } from '../../errors';
import { Department } from '../departments/department.type';
import { globalIdOf, optionalRowId } from '../global-id';
import { asUser, User, USER_COLUMNS } from '../users/user.type';
import { ownerForWrites } from '../../support/sessions';
import { enumEquals, findById, foreignWrite, keyOf, remember, shareableFields, sharedCount, sharedOrder, sharedPage, ShareScopeEnum } from '../../tenancy/shareable';

export const ProjectStatusEnum = builder.enumType(ProjectStatus, { name: 'ProjectStatus' });

export const Project = builder.prismaNode('Project', {
  // The primary key is (organization_id, id); the global ID carries only the id.
  id: { resolve: (project) => project.id },
  // `null` for a missing id and for another organization's id alike: RLS makes
  // the two the same query result, so the caller cannot tell them apart.
  nullable: true,
  // A shared or public project is another organization's: node(id) finds it by its id.
  findUnique: (id, ctx) => keyOf(ctx, ctx.tenantDb().project, id) as never,
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.expose('status', { type: ProjectStatusEnum }),
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
      resolve: (project, _args, ctx) => (project.organizationId === ctx.viewer!.organizationId && project.ownerUser ? asUser(project.ownerUser) : null),
    }),
    restrictedToDepartment: t.relation('restrictedToDepartment', {
      type: Department,
      nullable: true,
      description:
        'When set, the project exists only for owners, admins and the members of this department or of its sub-departments: for everyone else it is not found.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    ...shareableFields(t, 'projects'),
  }),
});

// PERF: this order matches the (organization_id, created_at DESC, id DESC) index.
const newestFirst: Prisma.ProjectOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { id: 'desc' }];

builder.queryFields((t) => ({
  projects: t.prismaConnection(
    {
      type: 'Project',
      cursor: 'organizationId_id',
      args: {
        status: t.arg({ type: ProjectStatusEnum }),
        scope: t.arg({ type: ShareScopeEnum, defaultValue: 'OWN', description: 'Whose projects: yours (the default), shared with you, public, or all three.' }),
      },
      // RLS scopes the rows; the organization filter keeps shared and public
      // rows of others out of OWN (sharing, migration 20261204150200_sharing).
      resolve: async (query, _root, args, ctx) => {
        const scope = args.scope ?? 'OWN';
        if (scope !== 'OWN') {
          const where = args.status ? enumEquals('status', 'ProjectStatus', args.status) : undefined;
          return (await sharedPage(ctx, ctx.tenantDb().project, { table: 'projects', scope, query, direction: sharedOrder(scope, null), where })) as ProjectRow[];
        }
        const rows = await ctx.tenantDb().project.findMany({ ...query, where: { organizationId: ctx.viewer!.organizationId, ...(args.status ? { status: args.status } : {}) }, orderBy: newestFirst });
        remember(ctx, rows);
        return rows;
      },
      totalCount: (_root, args, ctx) =>
        (args.scope ?? 'OWN') !== 'OWN'
          ? sharedCount(ctx, { table: 'projects', scope: args.scope as 'SHARED' | 'PUBLIC' | 'ALL', where: args.status ? enumEquals('status', 'ProjectStatus', args.status) : undefined })
          : ctx.tenantDb().project.count({ where: { organizationId: ctx.viewer!.organizationId, ...(args.status ? { status: args.status } : {}) } }),
    },
    {},
  ),
  project: t.prismaField({
    type: 'Project',
    nullable: true,
    args: { id: t.arg.id({ required: true, validate: globalIdOf('Project') }) },
    // By its id alone: a shared or public project is another organization's (RLS decides).
    resolve: async (query, _root, args, ctx) => (await findById(ctx, ctx.tenantDb().project, query, String(args.id))) as ProjectRow | null,
  }),
}));

const projectName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: projectName }),
    status: t.field({ type: ProjectStatusEnum }),
    restrictedToDepartmentId: t.id({
      description: 'Restricts the project to this department (see Project.restrictedToDepartment).',
      validate: globalIdOf('Department'),
    }),
  }),
});

const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  fields: (t) => ({
    id: t.id({ required: true, validate: globalIdOf('Project') }),
    name: t.string({ validate: projectName }),
    status: t.field({ type: ProjectStatusEnum }),
    restrictedToDepartmentId: t.id({
      description: 'Restricts the project to this department; null lifts the restriction, omitted leaves it as it is.',
      validate: globalIdOf('Department'),
    }),
  }),
});

const DeleteProjectInput = builder.inputType('DeleteProjectInput', {
  fields: (t) => ({
    id: t.id({ required: true, validate: globalIdOf('Project') }),
  }),
});

type ProjectRow = Prisma.ProjectGetPayload<object>;

/** The department a project would be restricted to, as the caller sees it: its name for the error below. */
function findDepartment(ctx: Context, departmentId: string): Promise<{ name: string } | null> {
  return ctx.tenantDb().department.findFirst({ where: { id: departmentId }, select: { name: true } });
}

/**
 * The error for a write whose department restriction the database refused. The
 * restriction itself is the database's: the foreign key (organization_id,
 * restricted_to_department_id) matches only the caller's organization's
 * departments, and the department_restriction policy's WITH CHECK refuses a
 * row its writer could not see afterwards (a member restricting to a department
 * outside its own path). `department` says which department that was.
 */
async function restrictionRefused(
  error: unknown,
  departmentId: string | null | undefined,
  department: (id: string) => Promise<{ name: string } | null>,
): Promise<unknown> {
  const refusal = refusalOf(error);
  if (!departmentId || !refusal) return error;
  if (refusal === 'projectDepartmentKey') return notFound('Department');
  if (refusal === 'policyRefused') {
    // RLS checks the row before the foreign key does: a missing department looks the same here.
    const found = await department(departmentId);
    if (!found) return notFound('Department');
    return forbidden(`A project restricted to "${found.name}" would be hidden from you: restrict it to your own department or one above it`);
  }
  return error;
}

const CreateProjectPayload = builder.objectRef<{ project: ProjectRow }>('CreateProjectPayload').implement({
  fields: (t) => ({ project: t.field({ type: Project, resolve: (payload) => payload.project }) }),
});
const UpdateProjectPayload = builder.objectRef<{ project: ProjectRow }>('UpdateProjectPayload').implement({
  fields: (t) => ({ project: t.field({ type: Project, resolve: (payload) => payload.project }) }),
});
const DeleteProjectPayload = builder.objectRef<{ deletedProjectId: string }>('DeleteProjectPayload').implement({
  fields: (t) => ({ deletedProjectId: t.exposeID('deletedProjectId') }),
});

builder.mutationFields((t) => ({
  createProject: t.field({
    type: CreateProjectPayload,
    quota: 'PROJECTS',
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const restrictedToDepartmentId = optionalRowId(input.restrictedToDepartmentId);
      // Read before the INSERT rather than after a refusal: the quota check runs
      // this resolver in its transaction, which a refused INSERT aborts.
      const department = restrictedToDepartmentId ? await findDepartment(ctx, restrictedToDepartmentId) : null;
      try {
        // organization_id is not given: the column defaults to app.current_org_id(),
        // and RLS's WITH CHECK refuses any other value.
        const project = await ctx.tenantDb().project.create({
          // A support session's project is the organization owner's (src/support/sessions.ts).
          data: { name: input.name, status: input.status ?? undefined, ownerId: await ownerForWrites(ctx), restrictedToDepartmentId },
        });
        remember(ctx, project);
        return { project };
      } catch (error) {
        throw await restrictionRefused(error, restrictedToDepartmentId, async () => department);
      }
    },
  }),
  updateProject: t.field({
    type: UpdateProjectPayload,
    args: { input: t.arg({ type: UpdateProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const restrictedToDepartmentId = optionalRowId(input.restrictedToDepartmentId);
      try {
        const data = { name: input.name ?? undefined, status: input.status ?? undefined, restrictedToDepartmentId };
        const project = await ctx.tenantDb().project
          .update({ where: { organizationId_id: { organizationId: ctx.viewer!.organizationId, id: String(input.id) } }, data })
          // Another organization's project: its WRITE grantee may change name and status (src/tenancy/shareable.ts).
          .catch((error: unknown) =>
            isRecordNotFound(error) ? foreignWrite(ctx, ctx.tenantDb().project, 'Project', String(input.id), (key) => ctx.tenantDb().project.update({ where: key, data })) : Promise.reject(error),
          );
        remember(ctx, project);
        return { project };
      } catch (error) {
        // A project restricted away from the caller is not found, like another organization's.
        if (isRecordNotFound(error)) throw notFound('Project');
        throw await restrictionRefused(error, restrictedToDepartmentId, (id) => findDepartment(ctx, id));
      }
    },
  }),
  deleteProject: t.field({
    type: DeleteProjectPayload,
    args: { input: t.arg({ type: DeleteProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      try {
        const project = await ctx.tenantDb().project
          .delete({ where: { organizationId_id: { organizationId: ctx.viewer!.organizationId, id: String(input.id) } } })
          // Another organization's project the viewer sees: only its owner deletes (FORBIDDEN), else NOT_FOUND.
          .catch((error: unknown) => (isRecordNotFound(error) ? foreignWrite<ProjectRow>(ctx, ctx.tenantDb().project, 'Project', String(input.id), null) : Promise.reject(error)));
        return { deletedProjectId: encodeGlobalID('Project', project.id) };
      } catch (error) {
        if (isRecordNotFound(error)) throw notFound('Project');
        throw error;
      }
    },
  }),
}));
