import type { Prisma } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { RoleEnum } from '../viewer/viewer.query';

// Joined first, first listed; the user id breaks ties, so pages never overlap.
// PERF: no index leads with (organization_id, created_at), so a page sorts the
// organization's memberships: cheap at thousands of members. A migration adding
// that index makes it an index scan should organizations grow far beyond.
const byJoinedAt: Prisma.MembershipOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { userId: 'asc' }];

builder.queryFields((t) => ({
  members: t.prismaConnection(
    {
      type: 'Membership',
      description: "The active organization's members, longest-standing first. Any member may list them.",
      cursor: 'organizationId_userId',
      args: { role: t.arg({ type: RoleEnum }) },
      // No organization filter here, on purpose: RLS adds it.
      resolve: (query, _root, args, ctx) =>
        ctx.tenantDb().membership.findMany({ ...query, where: args.role ? { role: args.role } : {}, orderBy: byJoinedAt }),
      totalCount: (_root, args, ctx) => ctx.tenantDb().membership.count({ where: args.role ? { role: args.role } : {} }),
    },
    {},
  ),
}));
