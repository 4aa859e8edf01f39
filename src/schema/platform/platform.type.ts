import { z } from 'zod';
import { encodeGlobalID, resolveCursorConnection } from '@pothos/plugin-relay';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import type { Context } from '../../context';
import type { SystemDatabase } from '../../db/system';
import { badUserInput, failedPrecondition, forbidden } from '../../errors';
import { listAuditLog, type AuditLogCursor, type AuditLogEntry } from '../../platform/audit-log';
import {
  createOrganization,
  listOrganizations,
  organizationsById,
  startSupportSession,
  type OrganizationSummary,
  type PlatformAction,
  type PlatformUser as PlatformUserShape,
  type SupportSession,
} from '../../platform/organizations';
import { setQuotaOverride } from '../../platform/quotas';
import type { Quota as QuotaShape } from '../../quotas/limits';
import { hostname } from '../domains/organization-domain.type';
import { globalIdOf } from '../global-id';
import { PlanEnum } from '../billing/plan.type';
import { Quota, QuotaResourceEnum } from '../quotas/quota.type';

/**
 * The platform operator's API: organizations across tenants, support sessions,
 * quota overrides and the audit log. A separate scope, not an organization role: every field
 * needs a listed platform operator and skips the root types' `member` scope (an
 * operator's token names no organization). The resolvers run on ctx.platformDb(),
 * the system client, through src/platform/; each one takes a `reason` and
 * records who did what, and why, in platform_audit_log.
 *
 * These types are the platform's view of the rows, with ids of their own: the
 * tenant types (Organization, User) resolve through the tenant client and RLS.
 */

/** The one gate of a platform-only field, query or mutation: spread it into the field's options (`...platformOnly`). */
export const platformOnly = { authScopes: { platform: true }, skipTypeScopes: true } as const;

export const reason = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');

/**
 * What a platform-only resolver works with: the system client, and the who and
 * why of its action (recorded in platform_audit_log by src/platform/). The one
 * place that checks the operator in a resolver: ctx.platformDb() refuses anyone
 * else, whatever the field's auth scopes say.
 */
export function asPlatform(ctx: Context, why: string): { db: SystemDatabase; action: PlatformAction } {
  const db = ctx.platformDb();
  const operator = ctx.platformOperator;
  if (!operator) throw forbidden('Only platform operators may do this');
  return { db, action: { actorUserId: operator.userId, reason: why, details: { clientAddress: ctx.clientAddress } } };
}

const PlatformUser = builder.objectRef<PlatformUserShape>('PlatformUser').implement({
  description: 'A user as the platform sees it, across organizations.',
  fields: (t) => ({
    id: t.id({ resolve: (user) => encodeGlobalID('PlatformUser', user.id) }),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
  }),
});

const PlatformOrganization = builder.objectRef<OrganizationSummary>('PlatformOrganization').implement({
  description: 'An organization as the platform sees it. Its id is what startSupportSession takes.',
  fields: (t) => ({
    id: t.id({ resolve: (organization) => encodeGlobalID('PlatformOrganization', organization.id) }),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    plan: t.expose('plan', { type: PlanEnum }),
    domains: t.exposeStringList('domains'),
    memberCount: t.exposeInt('memberCount'),
    owner: t.expose('owner', { type: PlatformUser, nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const PlatformAuditLogEntry = builder.objectRef<AuditLogEntry>('PlatformAuditLogEntry').implement({
  description: 'One platform action: who, what, on which organization, and why.',
  fields: (t) => ({
    id: t.id({ resolve: (entry) => encodeGlobalID('PlatformAuditLogEntry', entry.id) }),
    actor: t.expose('actor', { type: PlatformUser, nullable: true, description: 'Null once the user has been deleted.' }),
    action: t.exposeString('action', { description: 'e.g. organization.create, organization.list, support.start, audit.list' }),
    organization: t.expose('organization', { type: PlatformOrganization, nullable: true, description: 'The subject, while it exists.' }),
    reason: t.exposeString('reason'),
    details: t.string({ description: 'The action\'s details, as a JSON object.', resolve: (entry) => JSON.stringify(entry.details) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** Audit log cursors: `<created_at ISO>|<id>`, base64url. */
const auditCursor = {
  encode: (entry: AuditLogCursor) => Buffer.from(`${entry.createdAt.toISOString()}|${entry.id}`).toString('base64url'),
  decode(cursor: string | undefined, field: string): AuditLogCursor | undefined {
    if (cursor === undefined) return undefined;
    const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
    const createdAt = match ? new Date(match[1]) : null;
    if (!match || !createdAt || Number.isNaN(createdAt.getTime())) throw badUserInput([{ field, message: 'is not a valid cursor' }]);
    return { createdAt, id: match[2] };
  },
};

builder.queryFields((t) => ({
  platformOrganizations: t.connection({
    ...platformOnly,
    type: PlatformOrganization,
    description: 'Every organization, by slug. Recorded in the audit log, with the reason.',
    args: {
      search: t.arg.string({ description: 'Part of the slug or the name, any case.', validate: z.string().trim().max(200, 'must be at most 200 characters') }),
      reason: t.arg.string({ required: true, validate: reason }),
    },
    resolve: (_root, args, ctx) => {
      const { db, action } = asPlatform(ctx, args.reason);
      return resolveCursorConnection<Promise<OrganizationSummary[]>>({ args, toCursor: (organization) => organization.slug }, (page) =>
        listOrganizations(db, { ...page, search: args.search }, action),
      );
    },
  }),
  platformAuditLog: t.connection({
    ...platformOnly,
    type: PlatformAuditLogEntry,
    description: 'The platform audit log, newest first; of one organization when given. Reading it is recorded too.',
    args: {
      organizationId: t.arg.id({ validate: globalIdOf('PlatformOrganization') }),
      reason: t.arg.string({ required: true, validate: reason }),
    },
    resolve: (_root, args, ctx) => {
      const { db, action } = asPlatform(ctx, args.reason);
      return resolveCursorConnection<Promise<AuditLogEntry[]>>({ args, toCursor: auditCursor.encode }, ({ after, before, ...page }) =>
        listAuditLog(
          db,
          { ...page, after: auditCursor.decode(after, 'after'), before: auditCursor.decode(before, 'before'), organizationId: args.organizationId as string | null | undefined },
          action,
        ),
      );
    },
  }),
}));

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters') }),
    slug: t.string({
      required: true,
      validate: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit'),
    }),
    plan: t.field({ type: PlanEnum, defaultValue: 'FREE' }),
    domains: t.stringList({
      validate: z
        .array(hostname)
        .max(50, 'must list at most 50 domains')
        .superRefine((domains, issues) =>
          domains.forEach((value, index) => {
            if (domains.indexOf(value) !== index) issues.addIssue({ code: 'custom', path: [index], message: `lists ${value} twice` });
          }),
        ),
    }),
    ownerEmail: t.string({
      description: 'The first owner; a user is created for an email that has none.',
      validate: z.string().trim().toLowerCase().pipe(z.email('must be an email address')),
    }),
    reason: t.string({ required: true, validate: reason }),
  }),
});

const StartSupportSessionInput = builder.inputType('StartSupportSessionInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true, validate: globalIdOf('PlatformOrganization') }),
    reason: t.string({ required: true, validate: reason }),
  }),
});

const SetQuotaInput = builder.inputType('SetQuotaInput', {
  description: "Overrides one of an organization's plan limits, or removes the override (clearOverride).",
  fields: (t) => ({
    organizationId: t.id({ required: true, validate: globalIdOf('PlatformOrganization') }),
    resource: t.field({ type: QuotaResourceEnum, required: true }),
    limit: t.field({
      type: 'SafeInt',
      description: 'The new limit; null is unlimited. Required (a number or null) unless clearOverride.',
      validate: z.number().int().min(0, 'must not be negative').nullable(),
    }),
    clearOverride: t.boolean({ defaultValue: false, description: "Removes the override: the plan's limit applies again." }),
    reason: t.string({ required: true, validate: reason }),
  }),
  // An omitted limit must not pass for "unlimited": the operator says which.
  validate: z.custom<{ limit?: number | null; clearOverride?: boolean | null }>().superRefine((input, issues) => {
    if (input.clearOverride && input.limit !== undefined) {
      issues.addIssue({ code: 'custom', path: ['limit'], message: 'must be left out when clearOverride is true' });
    } else if (!input.clearOverride && input.limit === undefined) {
      issues.addIssue({ code: 'custom', path: ['limit'], message: 'is required: a number, or null for unlimited' });
    }
  }),
});

const SetQuotaPayload = payloadType<{ organization: OrganizationSummary; quota: QuotaShape }>('SetQuotaPayload', {
  fields: (t) => ({
    organization: t.expose('organization', { type: PlatformOrganization }),
    quota: t.expose('quota', { type: Quota, description: 'The quota as it now stands, with the organization\'s use.' }),
  }),
});

const CreateOrganizationPayload = payloadType<{ organization: OrganizationSummary }>('CreateOrganizationPayload', {
  fields: (t) => ({ organization: t.expose('organization', { type: PlatformOrganization }) }),
});

const StartSupportSessionPayload = payloadType<SupportSession>('StartSupportSessionPayload', {
  description: 'A bearer token with which the operator acts as an admin of the organization, without being a member.',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    organization: t.expose('organization', { type: PlatformOrganization }),
  }),
});

builder.mutationFields((t) => ({
  createOrganization: t.field({
    ...platformOnly,
    type: CreateOrganizationPayload,
    description: 'Creates an organization with its subscription, domains and owner. ALREADY_EXISTS when the slug is taken.',
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db: system, action } = asPlatform(ctx, input.reason);
      const { id } = await createOrganization(
        system,
        {
          name: input.name,
          slug: input.slug,
          plan: input.plan ?? undefined,
          domains: input.domains ?? [],
          owner: input.ownerEmail ? { email: input.ownerEmail } : undefined,
        },
        action,
      );
      return { organization: (await organizationsById(system, [id])).get(id)! };
    },
  }),
  setQuota: t.field({
    ...platformOnly,
    type: SetQuotaPayload,
    description:
      "Overrides one of an organization's plan limits (null: unlimited), or removes the override. A limit below current use blocks new creates and deletes nothing.",
    args: { input: t.arg({ type: SetQuotaInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { db: system, action } = asPlatform(ctx, input.reason);
      const organizationId = String(input.organizationId);
      const quota = await setQuotaOverride(
        system,
        { organizationId, resource: input.resource, override: input.clearOverride ? null : { limit: input.limit ?? null } },
        action,
      );
      return { organization: (await organizationsById(system, [organizationId])).get(organizationId)!, quota };
    },
  }),
  startSupportSession: t.field({
    ...platformOnly,
    type: StartSupportSessionPayload,
    description: 'Switches into an organization for support: a token valid for an hour, recorded with the reason.',
    args: { input: t.arg({ type: StartSupportSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { db, action } = asPlatform(ctx, input.reason);
      const sign = ctx.signSupportToken;
      if (!sign) {
        throw failedPrecondition('Support sessions need JWT_SECRET: the gateway signs their tokens itself, and with JWT_JWKS_URL tokens come from your identity provider');
      }
      return startSupportSession(db, { organizationId: String(input.organizationId), sign }, action);
    },
  }),
}));
