import { z } from 'zod';
import type { OrganizationDomain as OrganizationDomainRow } from '../../generated/prisma/client';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { refusalOf } from '../../db/database-errors';
import { alreadyExists } from '../../errors';
import { startVerification } from '../../domains/domain-verification';

/**
 * The organization's domains: Organization.domains lists them, owners and admins
 * add one with addDomain (unverified, with a fresh token: src/schema/domains/
 * verifies it), counted against the CUSTOM_DOMAINS quota.
 */

/** Hostnames as organization_domains accepts them (its CHECK constraint), lowercased. */
export const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .max(253, 'must be at most 253 characters')
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a hostname, e.g. example.com');

/** A verified (or not yet verified) domain of the organization. */
export const OrganizationDomain = builder.prismaObject('OrganizationDomain', {
  fields: (t) => ({
    domain: t.exposeString('domain'),
    verified: t.exposeBoolean('verified'),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
  }),
});

const AddDomainInput = builder.inputType('AddDomainInput', {
  fields: (t) => ({
    domain: t.string({ required: true, validate: hostname, description: 'A hostname, e.g. example.com; stored lowercased.' }),
  }),
});

const AddDomainPayload = payloadType<{ domain: OrganizationDomainRow }>('AddDomainPayload', {
  fields: (t) => ({ domain: t.field({ type: OrganizationDomain, resolve: (payload) => payload.domain }) }),
});

builder.mutationField('addDomain', (t) =>
  t.field({
    type: AddDomainPayload,
    description: 'Adds a domain to the organization, unverified. ALREADY_EXISTS when it is already added; QUOTA_EXCEEDED at the CUSTOM_DOMAINS limit.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    quota: 'CUSTOM_DOMAINS',
    args: { input: t.arg({ type: AddDomainInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      try {
        // SECURITY: raw SQL naming the domain alone, because the runtime role may
        // insert nothing else (Prisma's create would also send verified and
        // created_at). organization_id defaults to app.current_org_id().
        const [domain] = await ctx.tenantDb().$queryRaw<OrganizationDomainRow[]>`
          INSERT INTO organization_domains (domain) VALUES (${input.domain})
          RETURNING organization_id AS "organizationId", domain, verified, verified_at AS "verifiedAt", created_at AS "createdAt"`;
        return { domain: await startVerification(ctx.tenantDb(), ctx.viewer!.organizationId, domain.domain, ctx.services) };
      } catch (error) {
        if (refusalOf(error) === 'domainAlreadyAdded') {
          throw alreadyExists(`The domain ${input.domain} is already added`, { field: 'input.domain' });
        }
        throw error;
      }
    },
  }),
);
