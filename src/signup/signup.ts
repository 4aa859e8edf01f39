import { randomBytes } from 'node:crypto';
import type { TenantClient } from '../db/tenant';
import { failedPrecondition } from '../errors';
import { emailDomain, isPublicMailDomain } from '../domains/rules';
import { joinFailure, joinOrganization, type Joined } from '../invitations/invitations';
import { nameFromEmail } from '../platform/organizations';

/**
 * Signup routing by email domain (completeSignUp): a person signed in for the
 * first time (a token with a verified email and no `org`) joins the
 * organization that has verified their email's domain and allows joining, with
 * the role it gives; otherwise gets an organization of their own, as its OWNER.
 * Public mail domains (src/domains/public-mail-domains.json) never route.
 */

export interface DomainOwner {
  organization_id: string;
  slug: string;
  name: string;
  joining: boolean;
  join_role: 'ADMIN' | 'MEMBER';
  enforce_sso: boolean;
}

/** The organization holding the domain verified (SECURITY DEFINER: a read across tenants that tells only this). */
export async function verifiedDomainOwner(db: TenantClient, domain: string): Promise<DomainOwner | null> {
  if (isPublicMailDomain(domain)) return null;
  const [owner] = await db.$queryRaw<DomainOwner[]>`SELECT * FROM app.verified_domain_owner(${domain})`;
  return owner ?? null;
}

async function myOrganizations(db: TenantClient): Promise<{ organization_id: string }[]> {
  return db.$queryRaw<{ organization_id: string }[]>`SELECT organization_id FROM app.my_organizations()`;
}

/** Where the signed-in person could join by their email's domain, unless they are in it already. */
export async function suggestedOrganizations(db: TenantClient, email: string | null): Promise<DomainOwner[]> {
  if (!email) return [];
  const owner = await verifiedDomainOwner(db, emailDomain(email));
  if (!owner || !owner.joining) return [];
  const mine = await myOrganizations(db);
  return mine.some((m) => m.organization_id === owner.organization_id) ? [] : [owner];
}

const slugify = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'organization';

export async function completeSignUp(
  db: TenantClient,
  joiningDb: (organizationId: string) => TenantClient,
  caller: { userId: string; email: string | null },
  input: { organizationName: string | null },
): Promise<Joined & { created: boolean }> {
  const email = caller.email;
  if (!email) throw failedPrecondition('Sign up needs a token with a verified email (the email and email_verified claims)');
  if ((await myOrganizations(db)).length > 0) {
    throw failedPrecondition('You already belong to an organization: use a token with its id as the org claim (viewer.organizations lists them)');
  }
  const domain = emailDomain(email);
  const owner = await verifiedDomainOwner(db, domain);
  try {
    if (owner?.joining) {
      await joiningDb(owner.organization_id).$transaction((tx) =>
        joinOrganization(tx, { organizationId: owner.organization_id, userId: caller.userId, email, role: owner.join_role, via: 'domain' }),
      );
      return { organizationId: owner.organization_id, slug: owner.slug, name: owner.name, role: owner.join_role, created: false };
    }
    const name = input.organizationName ?? (isPublicMailDomain(domain) ? `${nameFromEmail(email) || 'My'}'s Organization` : `${domain} Organization`);
    const slug = `${slugify(name)}-${randomBytes(3).toString('hex')}`;
    const organizationId = await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT app.ensure_signed_in_user(${email}, ${nameFromEmail(email) || email})`;
      const [{ id }] = await tx.$queryRaw<{ id: string }[]>`SELECT app.create_signup_organization(${name}, ${slug}) AS id`;
      return id;
    });
    return { organizationId, slug, name, role: 'OWNER', created: true };
  } catch (error) {
    const failure = joinFailure(error);
    if (failure === 'member' || /signup_once|already belongs/.test(String((error as Error).message))) {
      throw failedPrecondition('You already belong to an organization');
    }
    if (failure === 'other-account') throw failedPrecondition('This email address belongs to another account: sign in as that account');
    throw error;
  }
}
