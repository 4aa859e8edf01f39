import { z } from 'zod';
import type { GraphQLError } from 'graphql';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Prisma, Role } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import type { Context } from '../../context';
import { isRecordNotFound, refusalOf } from '../../db/database-errors';
import { failedPrecondition, notFound } from '../../errors';
import { globalIdOf, optionalRowId } from '../global-id';
import { Membership, memberPayload } from '../members/membership.type';

/**
 * Departments: a tree within one organization. A project restricted to a
 * department is visible only to owners, admins and members of that department
 * or of its descendants (enforced by a restrictive RLS policy on projects).
 *
 * The database keeps the tree sound: a composite foreign key keeps a parent in
 * the same organization, the trigger app.departments_no_cycle refuses cycles,
 * and ON DELETE RESTRICT keeps a department that still has sub-departments,
 * members or restricted projects. The resolvers below only translate its
 * refusals into errors that say what to do.
 */

/** Owners and admins manage departments and assignments; every member may read them. */
const managers: { role: Role[] } = { role: ['OWNER', 'ADMIN'] };

const byName = [{ name: 'asc' as const }, { id: 'asc' as const }];
const byJoined: Prisma.MembershipOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { userId: 'asc' }];

function departmentKey(ctx: Context, id: string) {
  return { organizationId_id: { organizationId: ctx.viewer!.organizationId, id } };
}

export const Department = builder.prismaNode('Department', {
  // The primary key is (organization_id, id); the global ID carries only the id.
  id: { resolve: (department) => department.id },
  nullable: true,
  findUnique: (id, ctx) => departmentKey(ctx, id),
  fields: (t) => ({
    name: t.exposeString('name'),
    parent: t.relation('parent', { nullable: true, description: 'Null for a top-level department.' }),
    children: t.relation('children', { description: 'The direct sub-departments, by name.', query: { orderBy: byName } }),
    // The Membership type of ./members (the model's one object type). Naming it
    // here with `type:` would make the two types' inference circular.
    members: t.relation('members', {
      description: "The members assigned to this department itself, in the order they joined (departmentMembers can include its sub-departments').",
      query: { orderBy: byJoined },
    }),
    restrictedProjects: t.relatedConnection('restrictedProjects', {
      cursor: 'organizationId_id',
      totalCount: true,
      description: 'The projects restricted to this department that the caller may see, by name.',
      // No visibility filter here, on purpose: the department_restriction policy applies it, counts included.
      query: { orderBy: byName },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

// A Department global ID, decoded to the row id (BAD_USER_INPUT naming the field otherwise).
const departmentId = globalIdOf('Department');

builder.queryFields((t) => ({
  departments: t.prismaField({
    type: [Department],
    description:
      "All of the organization's departments, by name, as a flat list rather than a connection: an organization has tens of them, not thousands. Build the tree from parent or children.",
    resolve: (query, _root, _args, ctx) => ctx.tenantDb().department.findMany({ ...query, orderBy: byName }),
  }),
  department: t.prismaField({
    type: Department,
    nullable: true,
    args: { id: t.arg.id({ required: true, validate: departmentId }) },
    resolve: (query, _root, args, ctx) => ctx.tenantDb().department.findUnique({ ...query, where: departmentKey(ctx, String(args.id)) }),
  }),
  departmentMembers: t.prismaField({
    type: [Membership],
    description: "The members of a department, in the order they joined. Empty for a missing department or another organization's.",
    args: {
      departmentId: t.arg.id({ required: true, validate: departmentId }),
      includeDescendants: t.arg.boolean({ defaultValue: false, description: 'Also the members of its sub-departments, at any depth.' }),
    },
    resolve: (query, _root, args, ctx) => {
      const id = String(args.departmentId);
      if (!args.includeDescendants) {
        return ctx.tenantDb().membership.findMany({ ...query, where: { departmentId: id }, orderBy: byJoined });
      }
      // One transaction: the subtree (RLS scopes the CTE like any query; UNION
      // stops at a row already seen), then its members with what the query selects.
      return ctx.tenantDb().$transaction(async (tx) => {
        const subtree = await tx.$queryRaw<{ id: string }[]>`
          WITH RECURSIVE subtree(id) AS (
            SELECT id FROM departments WHERE id = ${id}::uuid
            UNION
            SELECT d.id FROM departments d JOIN subtree s ON d.parent_id = s.id
          )
          SELECT id::text AS id FROM subtree`;
        return tx.membership.findMany({ ...query, where: { departmentId: { in: subtree.map((d) => d.id) } }, orderBy: byJoined });
      });
    },
  }),
}));

const departmentName = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const CreateDepartmentInput = builder.inputType('CreateDepartmentInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: departmentName }),
    parentId: t.id({ description: 'The parent department; omitted or null for a top-level one.', validate: departmentId }),
  }),
});

const UpdateDepartmentInput = builder.inputType('UpdateDepartmentInput', {
  fields: (t) => ({
    id: t.id({ required: true, validate: departmentId }),
    name: t.string({ validate: departmentName }),
    parentId: t.id({
      description: 'Moves the department under this one; null makes it top-level, omitted leaves it where it is.',
      validate: departmentId,
    }),
  }),
});

const DeleteDepartmentInput = builder.inputType('DeleteDepartmentInput', {
  fields: (t) => ({ id: t.id({ required: true, validate: departmentId }) }),
});

const AssignToDepartmentInput = builder.inputType('AssignToDepartmentInput', {
  fields: (t) => ({
    userId: t.id({ required: true, validate: globalIdOf('User') }),
    departmentId: t.id({ description: 'Null or omitted takes the member out of its department.', validate: departmentId }),
  }),
});

type DepartmentRow = Prisma.DepartmentGetPayload<object>;

function departmentPayload(name: string) {
  return builder.objectRef<{ department: DepartmentRow }>(name).implement({
    fields: (t) => ({ department: t.field({ type: Department, resolve: (payload) => payload.department }) }),
  });
}

const CreateDepartmentPayload = departmentPayload('CreateDepartmentPayload');
const UpdateDepartmentPayload = departmentPayload('UpdateDepartmentPayload');
const DeleteDepartmentPayload = payloadType<{ deletedDepartmentId: string }>('DeleteDepartmentPayload', {
  fields: (t) => ({ deletedDepartmentId: t.exposeID('deletedDepartmentId') }),
});
const AssignToDepartmentPayload = memberPayload('AssignToDepartmentPayload');

/** A write refused because the parent department is missing or another organization's. */
function isUnknownParent(error: unknown): boolean {
  return refusalOf(error) === 'departmentParentKey';
}

/** What still references a department, for a delete that ON DELETE RESTRICT refused. */
const DEPARTMENT_REFERENCES = new Set(['departmentParentKey', 'memberDepartmentKey', 'projectDepartmentKey']);

/** Why a move was refused by app.departments_no_cycle, with the names the caller knows. */
async function cycleRefused(ctx: Context, id: string, parentId: string): Promise<GraphQLError> {
  const rows = await ctx.tenantDb().department.findMany({ where: { id: { in: [id, parentId] } }, select: { id: true, name: true } });
  const name = (key: string) => `"${rows.find((row) => row.id === key)?.name ?? 'unknown'}"`;
  return failedPrecondition(
    id === parentId
      ? `Department ${name(id)} cannot be its own parent`
      : `Cannot move ${name(id)} under ${name(parentId)}: ${name(parentId)} is inside ${name(id)}, which would make a cycle`,
    { field: 'input.parentId' },
  );
}

const NAMES_SHOWN = 5;
const list = new Intl.ListFormat('en', { style: 'long', type: 'conjunction' });

function counted(count: number, noun: string, names?: { name: string }[]): string {
  const text = `${count} ${noun}${count === 1 ? '' : 's'}`;
  if (!names) return text;
  const more = count > names.length ? ` and ${count - names.length} more` : '';
  return `${text} (${names.map((n) => n.name).join(', ')}${more})`;
}

/**
 * Why a delete was refused by ON DELETE RESTRICT: what still hangs on the
 * department. Only owners and admins delete, and the restriction policy hides
 * no project from them, so the counts are complete.
 */
async function stillInUse(ctx: Context, id: string): Promise<GraphQLError> {
  const department = await ctx.tenantDb().department.findUnique({
    where: departmentKey(ctx, id),
    select: {
      name: true,
      children: { select: { name: true }, orderBy: byName, take: NAMES_SHOWN },
      restrictedProjects: { select: { name: true }, orderBy: byName, take: NAMES_SHOWN },
      _count: { select: { children: true, members: true, restrictedProjects: true } },
    },
  });
  if (!department) return notFound('Department');
  const { children, members, restrictedProjects } = department._count;
  const remaining = [
    children > 0 && counted(children, 'sub-department', department.children),
    members > 0 && counted(members, 'member'),
    restrictedProjects > 0 && counted(restrictedProjects, 'restricted project', department.restrictedProjects),
  ].filter((part): part is string => part !== false);
  // Emptied between the delete and this read: a retry succeeds.
  if (remaining.length === 0) return failedPrecondition(`Department "${department.name}" was in use; try again.`);
  return failedPrecondition(`Department "${department.name}" still has ${list.format(remaining)}; move them first.`, {
    subDepartments: children,
    members,
    restrictedProjects,
  });
}

builder.mutationFields((t) => ({
  createDepartment: t.field({
    type: CreateDepartmentPayload,
    authScopes: managers,
    args: { input: t.arg({ type: CreateDepartmentInput, required: true }) },
    resolve: async (_root, { input }, ctx, info) => {
      try {
        // organization_id defaults to app.current_org_id(), as for projects.
        const department = await ctx.tenantDb().department.create({
          ...queryFromInfo({ context: ctx, info, path: ['department'] }),
          data: { name: input.name, parentId: optionalRowId(input.parentId) ?? null },
        });
        return { department };
      } catch (error) {
        // SECURITY: the key (organization_id, parent_id) matches no other organization's department.
        if (isUnknownParent(error)) throw notFound('Parent department');
        throw error;
      }
    },
  }),
  updateDepartment: t.field({
    type: UpdateDepartmentPayload,
    authScopes: managers,
    args: { input: t.arg({ type: UpdateDepartmentInput, required: true }) },
    resolve: async (_root, { input }, ctx, info) => {
      const id = String(input.id);
      const parentId = optionalRowId(input.parentId);
      try {
        const department = await ctx.tenantDb().department.update({
          ...queryFromInfo({ context: ctx, info, path: ['department'] }),
          where: departmentKey(ctx, id),
          data: { name: input.name ?? undefined, parentId },
        });
        return { department };
      } catch (error) {
        if (isRecordNotFound(error)) throw notFound('Department');
        if (isUnknownParent(error)) throw notFound('Parent department');
        if (parentId && refusalOf(error) === 'departmentCycle') throw await cycleRefused(ctx, id, parentId);
        throw error;
      }
    },
  }),
  deleteDepartment: t.field({
    type: DeleteDepartmentPayload,
    authScopes: managers,
    args: { input: t.arg({ type: DeleteDepartmentInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = String(input.id);
      // Delete first and explain afterwards: the foreign keys decide atomically,
      // where a check before the delete could race a concurrent assignment.
      try {
        await ctx.tenantDb().department.delete({ where: departmentKey(ctx, id), select: { id: true } });
      } catch (error) {
        if (isRecordNotFound(error)) throw notFound('Department');
        if (DEPARTMENT_REFERENCES.has(refusalOf(error) ?? '')) throw await stillInUse(ctx, id);
        throw error;
      }
      return { deletedDepartmentId: encodeGlobalID('Department', id) };
    },
  }),
  assignToDepartment: t.field({
    type: AssignToDepartmentPayload,
    authScopes: managers,
    args: { input: t.arg({ type: AssignToDepartmentInput, required: true }) },
    resolve: async (_root, { input }, ctx, info) => {
      try {
        // The member's next request computes its department path afresh, so
        // restricted projects follow the assignment at once.
        const member = await ctx.tenantDb().membership.update({
          ...queryFromInfo({ context: ctx, info, path: ['member'] }),
          where: { organizationId_userId: { organizationId: ctx.viewer!.organizationId, userId: String(input.userId) } },
          data: { departmentId: optionalRowId(input.departmentId) ?? null },
        });
        return { member };
      } catch (error) {
        // Another organization's user is not a member here: RLS hides the row, as for a missing one.
        if (isRecordNotFound(error)) throw notFound('Member');
        if (refusalOf(error) === 'memberDepartmentKey') throw notFound('Department');
        throw error;
      }
    },
  }),
}));
