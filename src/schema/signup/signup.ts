import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { emailDomain, verifiedEmail } from '../../domains/rules';
import type { Joined } from '../../invitations/invitations';
import { completeSignUp, suggestedOrganizations, verifiedDomainOwner, type DomainOwner } from '../../signup/signup';
import { JoinedOrganization } from '../invitations/invitation.type';
import { RoleEnum, Viewer } from '../viewer/viewer.query';

/**
 * completeSignUp, suggestedOrganizations and ssoRoute: signup routing by email
 * domain and SSO discovery. The first two are for a signed-in caller without an
 * organization (its token has no `org`); ssoRoute is public, for a login page.
 */

const signedIn = { authScopes: { signedIn: true }, skipTypeScopes: true } as const;

const CompleteSignUpInput = builder.inputType('CompleteSignUpInput', {
  fields: (t) => ({
    organizationName: t.string({
      validate: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
      description: 'The name of the organization created when no organization takes you in by domain. Default: "<domain> Organization".',
    }),
  }),
});

const CompleteSignUpPayload = payloadType<{ organization: Joined; created: boolean }>('CompleteSignUpPayload', {
  fields: (t) => ({
    organization: t.field({ type: JoinedOrganization, resolve: (p) => p.organization }),
    created: t.exposeBoolean('created', { description: 'True when a new organization was created for you; false when you joined one by your email domain.' }),
  }),
});

builder.mutationField('completeSignUp', (t) =>
  t.field({
    ...signedIn,
    type: CompleteSignUpPayload,
    description:
      "A first sign-in: joins the organization that verified your email's domain (when it allows joining), else creates one with you as OWNER. " +
      'Needs a verified email claim; FAILED_PRECONDITION when you already belong to an organization.',
    args: { input: t.arg({ type: CompleteSignUpInput, required: false }) },
    resolve: async (_root, { input }, ctx) => {
      const joined = await completeSignUp(ctx.tenantDb(), ctx.joiningDb, { userId: ctx.claims!.sub, email: verifiedEmail(ctx.claims) }, { organizationName: input?.organizationName ?? null });
      return { organization: joined, created: joined.created };
    },
  }),
);

export const SuggestedOrganization = builder.objectRef<DomainOwner>('SuggestedOrganization').implement({
  description: 'An organization that takes in people of your email domain.',
  fields: (t) => ({
    id: t.id({ resolve: (o) => encodeGlobalID('Organization', o.organization_id) }),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, description: 'The role you would join with.', resolve: (o) => o.join_role }),
  }),
});

builder.queryField('suggestedOrganizations', (t) =>
  t.field({
    ...signedIn,
    type: [SuggestedOrganization],
    description: 'Where you could join by your verified email domain (completeSignUp joins it). The same as viewer.suggestedOrganizations, for a token without an organization.',
    resolve: (_root, _args, ctx) => suggestedOrganizations(ctx.tenantDb(), verifiedEmail(ctx.claims)),
  }),
);

builder.objectField(Viewer, 'suggestedOrganizations', (t) =>
  t.field({
    type: [SuggestedOrganization],
    description: 'Where you could join by your verified email domain, besides your organizations.',
    resolve: (_viewer, _args, ctx) => suggestedOrganizations(ctx.tenantDb(), verifiedEmail(ctx.claims)),
  }),
);

const SsoRoute = builder.objectRef<DomainOwner>('SsoRoute').implement({
  description: 'Where a login page sends someone of this email domain: the organization that requires SSO for it.',
  fields: (t) => ({
    organizationId: t.id({ description: "The organization's row id: the `org` claim to ask the identity provider for.", resolve: (o) => o.organization_id }),
    slug: t.exposeString('slug'),
    connection: t.string({
      description: "The identity provider connection to use: the organization's slug, as the connection is named at the identity provider.",
      resolve: (o) => o.slug,
    }),
  }),
});

builder.queryField('ssoRoute', (t) =>
  t.field({
    // Public: a login page asks before anyone is signed in.
    skipTypeScopes: true,
    type: SsoRoute,
    nullable: true,
    description:
      'Public: for an email address, the organization that enforces SSO for its (verified) domain, or null. Null tells nothing: no such domain, unverified, public mail, or no SSO.',
    args: { email: t.arg.string({ required: true, validate: z.string().trim().toLowerCase().max(254).pipe(z.email()) }) },
    resolve: async (_root, { email }, ctx) => {
      const owner = await verifiedDomainOwner(ctx.tenantDb(), emailDomain(email));
      return owner?.enforce_sso ? owner : null;
    },
  }),
);
