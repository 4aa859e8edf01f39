import { Role } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import type { Viewer as ViewerShape } from '../../context';
import { notFound } from '../../errors';
import { Organization } from '../organizations/organization.type';
import { User } from '../users/user.type';

export const RoleEnum = builder.enumType(Role, { name: 'Role', description: "A member's role in an organization." });

/** A row of app.my_organizations(). */
interface MyOrganizationRow {
  organization_id: string;
  slug: string;
  name: string;
  role: Role;
  joined_at: Date;
}

/**
 * One of the viewer's organizations. Its own small type rather than an
 * Organization: the row comes from app.my_organizations(), which reads across
 * tenants and returns only these columns, while Organization's fields read the
 * active organization's row (and may need more of it).
 */
const ViewerOrganization = builder.objectRef<MyOrganizationRow & { active: boolean }>('ViewerOrganization').implement({
  description: 'An organization the viewer belongs to, with its role there.',
  fields: (t) => ({
    id: t.globalID({
      description: 'The global ID of the Organization: the `org` claim of a token for it is its row id.',
      resolve: (row) => ({ type: 'Organization', id: row.organization_id }),
    }),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    joinedAt: t.expose('joined_at', { type: 'DateTime' }),
    active: t.exposeBoolean('active', { description: "Whether this is the request's organization (the token's `org` claim)." }),
  }),
});

export const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
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
    support: t.exposeBoolean('support', { description: 'A platform operator in a support session, acting as an admin.' }),
    organizations: t.field({
      type: [ViewerOrganization],
      description: 'Every organization the viewer belongs to, by name; a token names the active one.',
      resolve: async (viewer, _args, ctx) => {
        // SECURITY: the one read across tenants a member may make: a SECURITY
        // DEFINER function returning only the memberships of app.current_user_id().
        const rows = await ctx.tenantDb().$queryRaw<MyOrganizationRow[]>`SELECT * FROM app.my_organizations()`;
        return rows.map((row) => ({ ...row, active: row.organization_id === viewer.organizationId }));
      },
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    resolve: (_root, _args, ctx) => ctx.viewer!,
  }),
);
