import { builder } from '../../builder';
import { ProjectStatusEnum } from '../projects/project.type';
import { RoleEnum } from '../viewer/viewer.query';

/**
 * Organization analytics: the field behind the `advancedAnalytics` feature. An
 * organization without it gets FORBIDDEN naming the feature (see the `feature`
 * scope in src/builder.ts); any field or mutation can require a feature the same way.
 */

interface Analytics {
  projectsByStatus: { status: 'ACTIVE' | 'ARCHIVED' | 'COMPLETED'; count: number }[];
  membersByRole: { role: 'OWNER' | 'ADMIN' | 'MEMBER'; count: number }[];
  departments: number;
}

const ProjectStatusCount = builder.objectRef<Analytics['projectsByStatus'][number]>('ProjectStatusCount').implement({
  fields: (t) => ({ status: t.expose('status', { type: ProjectStatusEnum }), count: t.exposeInt('count') }),
});

const RoleCount = builder.objectRef<Analytics['membersByRole'][number]>('RoleCount').implement({
  fields: (t) => ({ role: t.expose('role', { type: RoleEnum }), count: t.exposeInt('count') }),
});

const AnalyticsType = builder.objectRef<Analytics>('OrganizationAnalytics').implement({
  fields: (t) => ({
    projectsByStatus: t.field({ type: [ProjectStatusCount], resolve: (a) => a.projectsByStatus }),
    membersByRole: t.field({ type: [RoleCount], resolve: (a) => a.membersByRole }),
    departments: t.exposeInt('departments'),
  }),
});

builder.queryField('analytics', (t) =>
  t.field({
    type: AnalyticsType,
    description: "Counts across the active organization. Requires the organization's advancedAnalytics feature.",
    authScopes: { feature: 'advancedAnalytics' },
    resolve: async (_root, _args, ctx) => {
      const db = ctx.tenantDb();
      // One transaction, three aggregates; RLS scopes each to the organization
      // (and hides restricted projects the viewer may not see).
      const [projects, members, departments] = await db.$transaction([
        db.project.groupBy({ by: ['status'], where: { organizationId: ctx.viewer!.organizationId }, _count: { _all: true }, orderBy: { status: 'asc' } }),
        db.membership.groupBy({ by: ['role'], _count: { _all: true }, orderBy: { role: 'asc' } }),
        db.department.count(),
      ]);
      return {
        projectsByStatus: projects.map((p) => ({ status: p.status, count: p._count._all })),
        membersByRole: members.map((m) => ({ role: m.role, count: m._count._all })),
        departments,
      };
    },
  }),
);
