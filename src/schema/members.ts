import { builder } from '../builder';
import { notFound } from '../errors';
import { Department } from './departments';
import { User } from './users';
import { RoleEnum } from './viewer';

/** A user's membership of the active organization. */
export const Membership = builder.prismaObject('Membership', {
  fields: (t) => ({
    user: t.field({
      type: User,
      // PERF: batched per request by the user loader.
      resolve: async (membership, _args, ctx) => (await ctx.loaders.user.load(membership.userId)) ?? Promise.reject(notFound('User')),
    }),
    role: t.expose('role', { type: RoleEnum }),
    department: t.relation('department', { type: Department, nullable: true }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
