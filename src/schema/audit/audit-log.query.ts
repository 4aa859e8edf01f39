import { resolveCursorConnection } from '@pothos/plugin-relay';
import { z } from 'zod';
import { auditLogQuery, type AuditCursor, type AuditEntryRow } from '../../audit/log';
import { builder } from '../../builder';
import type { Context } from '../../context';
import { badUserInput, forbidden } from '../../errors';
import { globalIdOf } from '../global-id';
import { AuditEntry } from './audit-entry.type';

const cursor = {
  encode: (entry: AuditCursor) => Buffer.from(`${entry.createdAt.toISOString()}|${entry.id}`).toString('base64url'),
  decode(value: string | undefined, field: string): AuditCursor | undefined {
    if (value === undefined) return undefined;
    const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(Buffer.from(value, 'base64url').toString());
    const createdAt = match ? new Date(match[1]) : null;
    if (!match || !createdAt || Number.isNaN(createdAt.getTime())) throw badUserInput([{ field, message: 'is not a valid cursor' }]);
    return { createdAt, id: match[2] };
  },
};

const AuditLogFilter = builder.inputType('AuditLogFilter', {
  fields: (t) => ({
    action: t.string({ description: 'An event type, e.g. member.added.', validate: z.string().max(100, 'must be at most 100 characters').regex(/^[a-z_.]+$/, 'must be an event type such as member.added') }),
    actor: t.id({ description: "A user's id: entries that user acted on.", validate: z.string().regex(/^[0-9a-f-]{36}$/i, 'must be a user id') }),
    since: t.field({ type: 'DateTime', description: 'From this time on (inclusive).' }),
    until: t.field({ type: 'DateTime', description: 'Before this time (exclusive).' }),
  }),
});

/** The rows: the tenant client under RLS for the organization's own admins, the system client for an operator. */
async function rows(ctx: Context, organizationId: string | null, query: Parameters<typeof auditLogQuery>): Promise<AuditEntryRow[]> {
  const { text, values } = auditLogQuery(...query);
  if (organizationId) return (await ctx.platformDb().pool.query<AuditEntryRow>(text, values)).rows;
  return ctx.tenantDb().$queryRawUnsafe<AuditEntryRow[]>(text, ...values);
}

builder.queryField('auditLog', (t) =>
  t.connection({
    type: AuditEntry,
    description:
      "The organization's audit log, newest first: administrative actions, everything done in support sessions, denied access. " +
      "OWNER and ADMIN read their organization's; a platform operator reads any organization's by passing organizationId.",
    // Members' own scope rules are checked in the resolver: a platform operator may call it without an organization.
    skipTypeScopes: true,
    authScopes: { $any: { role: ['OWNER', 'ADMIN'], platform: true } },
    args: {
      filter: t.arg({ type: AuditLogFilter }),
      organizationId: t.arg.id({ description: 'Platform operators only: the organization (a PlatformOrganization id).', validate: globalIdOf('PlatformOrganization') }),
    },
    resolve: (_root, args, ctx) => {
      const platformOrg = (args.organizationId as string | null | undefined) ?? null;
      if (platformOrg && !ctx.platformOperator) throw forbidden('Only platform operators may read another organization\'s audit log');
      const organizationId = platformOrg ?? ctx.viewer?.organizationId;
      if (!organizationId || (!platformOrg && !['OWNER', 'ADMIN'].includes(ctx.viewer?.role ?? ''))) throw forbidden('Only owners and admins may read the audit log');
      const filter = args.filter ?? {};
      return resolveCursorConnection<Promise<AuditEntryRow[]>>({ args, toCursor: cursor.encode }, ({ after, before, limit, inverted }) =>
        rows(ctx, platformOrg, [
          organizationId,
          { action: filter.action, actor: filter.actor === null || filter.actor === undefined ? null : String(filter.actor), since: filter.since, until: filter.until },
          { limit, inverted, after: cursor.decode(after, 'after'), before: cursor.decode(before, 'before') },
        ]),
      );
    },
  }),
);
