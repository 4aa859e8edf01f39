import { z } from 'zod';
import type { Role } from '../../generated/prisma/enums';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { refusalOf } from '../../db/database-errors';
import { forbidden, notFound } from '../../errors';
import { SharePermissionEnum, shareableRow, VisibilityEnum } from './sharing.type';

/**
 * share, unshare, setVisibility: for the OWNER and ADMIN of the owning
 * organization only (the row's creator has no rights of its own beyond its
 * role). Organizations are named by slug; an unknown slug is answered exactly
 * like a known one, so the API tells nobody which organizations exist. The
 * database does the work (app.share, app.unshare, the guard trigger), and
 * refuses what the role does not allow even on raw SQL.
 */

const slugs = z.array(z.string().min(1).max(100)).min(1, 'must name at least one organization').max(100, 'at most 100 organizations at once');

const ShareInput = builder.inputType('ShareInput', {
  fields: (t) => ({
    id: t.id({ required: true, description: 'A Project or Template.' }),
    organizations: t.stringList({ required: true, description: 'Slugs of the organizations to share with.', validate: slugs }),
    permissions: t.field({ type: [SharePermissionEnum], required: true, description: '[READ] or [READ, WRITE].', validate: z.array(z.string()).min(1) }),
  }),
});

const UnshareInput = builder.inputType('UnshareInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    organizations: t.stringList({ required: true, validate: slugs }),
  }),
});

const SetVisibilityInput = builder.inputType('SetVisibilityInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    visibility: t.field({ type: VisibilityEnum, required: true }),
  }),
});

const SharingPayload = payloadType<{ id: string }>('SharingPayload', {
  description: 'The row whose sharing changed. Says nothing about which of the named organizations exist.',
  fields: (t) => ({ id: t.exposeID('id') }),
});

function refused(error: unknown): unknown {
  return refusalOf(error) === 'policyRefused' ? forbidden('Only an OWNER or ADMIN of the owning organization may change sharing') : error;
}

const ownersAndAdmins = { role: ['OWNER', 'ADMIN'] as Role[] };

builder.mutationFields((t) => ({
  share: t.field({
    type: SharingPayload,
    authScopes: ownersAndAdmins,
    description: 'Grants organizations (by slug) READ, or READ and WRITE, on a row of yours; makes a PRIVATE row SHARED. Granting again replaces the permissions.',
    args: { input: t.arg({ type: ShareInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { table, id } = shareableRow(String(input.id));
      const canWrite = input.permissions.includes('WRITE');
      const [{ found }] = await ctx
        .tenantDb()
        .$queryRaw<{ found: boolean }[]>`SELECT app.share(${table}, ${id}::uuid, ${input.organizations}::text[], ${canWrite}) AS found`
        .catch((error: unknown) => Promise.reject(refused(error)));
      if (!found) throw notFound(table === 'projects' ? 'Project' : 'Template');
      return { id: String(input.id) };
    },
  }),
  unshare: t.field({
    type: SharingPayload,
    authScopes: ownersAndAdmins,
    description: 'Revokes the grants of organizations (by slug); effective from the next request.',
    args: { input: t.arg({ type: UnshareInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { table, id } = shareableRow(String(input.id));
      const [{ found }] = await ctx
        .tenantDb()
        .$queryRaw<{ found: boolean }[]>`SELECT app.unshare(${table}, ${id}::uuid, ${input.organizations}::text[]) AS found`
        .catch((error: unknown) => Promise.reject(refused(error)));
      if (!found) throw notFound(table === 'projects' ? 'Project' : 'Template');
      return { id: String(input.id) };
    },
  }),
  setVisibility: t.field({
    type: SharingPayload,
    authScopes: ownersAndAdmins,
    description: 'PRIVATE (grants kept but idle), SHARED (the granted organizations) or PUBLIC (every organization reads).',
    args: { input: t.arg({ type: SetVisibilityInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { table, id } = shareableRow(String(input.id));
      const where = { organizationId: ctx.viewer!.organizationId, id };
      const db = ctx.tenantDb();
      const updated = await (table === 'projects'
        ? db.project.updateMany({ where, data: { visibility: input.visibility } })
        : db.template.updateMany({ where, data: { visibility: input.visibility } })
      ).catch((error: unknown) => {
        // The only CHECK a visibility change can break: projects_restricted_not_shared.
        if (refusalOf(error) === 'checkViolation') return Promise.reject(forbidden('A project restricted to a department cannot be shared'));
        return Promise.reject(refused(error));
      });
      if (updated.count === 0) throw notFound(table === 'projects' ? 'Project' : 'Template');
      return { id: String(input.id) };
    },
  }),
}));
