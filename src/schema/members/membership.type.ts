import type { Membership as MembershipRow } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { notFound } from '../../errors';
import { User } from '../users/user.type';
import { RoleEnum } from '../viewer/viewer.query';

export type { MembershipRow };

/** A user's membership of the active organization. */
export const Membership = builder.prismaObject('Membership', {
  fields: (t) => ({
    user: t.field({
      type: User,
      // PERF: batched per request by the user loader.
      resolve: async (membership, _args, ctx) => (await ctx.loaders.user.load(membership.userId)) ?? Promise.reject(notFound('User')),
    }),
    role: t.expose('role', { type: RoleEnum }),
    // The type by model name, not by import: departments/department.type.ts lists its members as
    // Memberships, and importing each other's refs would make the types circular.
    department: t.relation('department', { nullable: true }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** `{ member }`: the payload of a mutation that adds or changes one membership. */
export function memberPayload(name: string) {
  return builder.objectRef<{ member: MembershipRow }>(name).implement({
    fields: (t) => ({ member: t.field({ type: Membership, resolve: (payload) => payload.member }) }),
  });
}
