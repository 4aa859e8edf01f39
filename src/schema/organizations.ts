import { builder } from '../builder';
import { notFound } from '../errors';

export const Organization = builder.prismaNode('Organization', {
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('organization', (t) =>
  t.field({
    type: Organization,
    description: 'The active organization: the one named by the token.',
    resolve: async (_root, _args, ctx) => {
      const organization = await ctx.loaders.organization.load(ctx.viewer!.organizationId);
      if (!organization) throw notFound('Organization');
      return organization;
    },
  }),
);
