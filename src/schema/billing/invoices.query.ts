import { builder } from '../../builder';
import { InvoiceStatusEnum } from './invoice.type';

builder.queryFields((t) => ({
  invoices: t.prismaConnection(
    {
      type: 'Invoice',
      description: "The organization's invoices, newest month first. Owners and admins only.",
      // Billing data: owners and admins (support sessions act as admins). The
      // billing_roles policies (migration 20261127030300_billing) back this up.
      authScopes: { role: ['OWNER', 'ADMIN'] },
      // The cursor is the row's key, not (organization_id, period): Prisma 7 finds no
      // cursor row on a DATE column in a batch transaction (the tenant client's path
      // for a single operation), and returns an empty page. period is unique within
      // the organization, so ordering by it alone is total.
      cursor: 'organizationId_id',
      args: { status: t.arg({ type: InvoiceStatusEnum }) },
      // No organization filter here, on purpose: RLS adds it.
      // PERF: the order matches the unique (organization_id, period) index.
      resolve: (query, _root, args, ctx) =>
        ctx.tenantDb().invoice.findMany({ ...query, where: args.status ? { status: args.status } : {}, orderBy: { period: 'desc' } }),
      totalCount: (_root, args, ctx) => ctx.tenantDb().invoice.count({ where: args.status ? { status: args.status } : {} }),
    },
    {},
  ),
}));
