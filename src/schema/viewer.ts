import { Role } from '../generated/prisma/enums';
import { builder } from '../builder';
import type { Viewer as ViewerShape } from '../context';
import { notFound } from '../errors';
import { Organization } from './organizations';
import { User } from './users';

export const RoleEnum = builder.enumType(Role, { name: 'Role', description: "A member's role in an organization." });

const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'The caller: its user, its active organization and its role there.',
  fields: (t) => ({
    user: t.field({
      type: User,
      resolve: async (viewer, _args, ctx) => (await ctx.loaders.user.load(viewer.userId)) ?? Promise.reject(notFound('User')),
    }),
    organization: t.field({
      type: Organization,
      resolve: async (viewer, _args, ctx) =>
        (await ctx.loaders.organization.load(viewer.organizationId)) ?? Promise.reject(notFound('Organization')),
    }),
    role: t.expose('role', { type: RoleEnum }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    resolve: (_root, _args, ctx) => ctx.viewer!,
  }),
);
