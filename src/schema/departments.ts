import { builder } from '../builder';

/**
 * Departments: a tree within one organization. A project restricted to a
 * department is visible only to owners, admins and members of that department
 * or of its descendants (enforced by a restrictive RLS policy on projects).
 */
export const Department = builder.prismaNode('Department', {
  // The primary key is (organization_id, id); the global ID carries only the id.
  id: { resolve: (department) => department.id },
  nullable: true,
  findUnique: (id, ctx) => ({ organizationId_id: { organizationId: ctx.viewer!.organizationId, id } }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
