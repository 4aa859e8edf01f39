import { builder } from '../../builder';
import { Invitation, InvitationStatusEnum } from './invitation.type';

builder.queryField('invitations', (t) =>
  t.field({
    type: [Invitation],
    description: "The organization's invitations, newest first (at most 200). OWNER and ADMIN.",
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { status: t.arg({ type: InvitationStatusEnum, defaultValue: 'PENDING' }) },
    resolve: async (_root, args, ctx) => {
      const rows = await ctx.tenantDb().invitation.findMany({ where: { status: args.status ?? 'PENDING' }, orderBy: { createdAt: 'desc' }, take: 200 });
      const now = ctx.services.now();
      return rows.map((row) => ({ ...row, now }));
    },
  }),
);
