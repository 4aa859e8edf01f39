import type { QuotaResource } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import type { Quota as QuotaShape } from '../../quotas/limits';

/**
 * Quotas: what the organization's plan (or a platform operator's override)
 * allows, and how much of it is used. Read through organization.quotas; set by
 * platform operators with setQuota (../platform/platform.type.ts); enforced on the mutations
 * that declare `quota` (src/quotas/pothos-plugin.ts).
 */

export const QuotaResourceEnum = builder.enumType('QuotaResource', {
  description: 'What a quota limits.',
  values: {
    USERS: { value: 'USERS', description: 'Members of the organization.' },
    PROJECTS: { value: 'PROJECTS', description: 'Projects, department-restricted ones included.' },
    STORAGE: { value: 'STORAGE', description: 'Bytes stored.' },
    API_CALLS: { value: 'API_CALLS', description: 'API calls this calendar month (UTC).' },
    CUSTOM_DOMAINS: { value: 'CUSTOM_DOMAINS', description: 'Domains of the organization, verified or not.' },
    TASKS: { value: 'TASKS', description: 'Tasks, in every project.' },
  } as const satisfies Record<QuotaResource, { value: QuotaResource; description: string }>,
});

export const Quota = builder.objectRef<QuotaShape>('Quota').implement({
  description: "A limit of the organization's plan, or a platform operator's override of it, and how much of it is used.",
  fields: (t) => ({
    resource: t.expose('resource', { type: QuotaResourceEnum }),
    limit: t.expose('limit', { type: 'SafeInt', nullable: true, description: 'Null: unlimited.' }),
    used: t.expose('used', { type: 'SafeInt' }),
    remaining: t.expose('remaining', {
      type: 'SafeInt',
      nullable: true,
      description: 'What is left before creates are refused; 0 when a limit was lowered below use. Null: unlimited.',
    }),
  }),
});
