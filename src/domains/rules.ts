import { createHash, randomBytes } from 'node:crypto';
import publicMailDomains from './public-mail-domains.json';

/** Pure rules of domains, invitations and signup, shared by resolvers and jobs. */

/** Where the DNS proof goes: `TXT _tenantgate-verify.<domain>`. */
export const dnsRecordName = (domain: string) => `_tenantgate-verify.${domain}`;
/** Where the HTTP proof goes, on the domain itself. */
export const HTTP_PROOF_PATH = '/.well-known/tenantgate-verification.txt';
/** The mailboxes a verification link may be sent to (the sender's choice among them). */
export const VERIFICATION_MAILBOXES = ['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'] as const;
export type VerificationMailbox = (typeof VERIFICATION_MAILBOXES)[number];

const PUBLIC = new Set<string>(publicMailDomains);

/** Free mail providers never route to an organization: gmail.com belongs to nobody's company. */
export function isPublicMailDomain(domain: string): boolean {
  return PUBLIC.has(domain.toLowerCase());
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** A token for a link (URL-safe, 256 bits) and the sha256 that is stored instead of it. */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether `host` is `domain` or under it (app.acme.example under acme.example). */
export function isUnder(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  return h === domain || h.endsWith(`.${domain}`);
}

/** The email a token vouches for: the OIDC `email` claim, only when `email_verified` is true. */
export function verifiedEmail(claims: Record<string, unknown> | null): string | null {
  if (!claims || claims.email_verified !== true || typeof claims.email !== 'string') return null;
  const email = claims.email.trim().toLowerCase();
  return email.length <= 254 && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? email : null;
}
