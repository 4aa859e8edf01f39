/**
 * npm run token -- --email <email> [--org <slug>] [--expires 12h] [--raw]
 * npm run token -- --platform-admin [--email <email>] [--expires 12h] [--raw]
 * npm run token -- --signed-in --email <email> [--expires 12h] [--raw]
 *
 * Prints a signed bearer token for that user in that organization (the user's
 * only organization when --org is left out), or, with --platform-admin, a
 * platform operator's token: the platform scope and no organization (the user
 * must be listed in platform_operators; the only operator when --email is left
 * out), or, with --signed-in, what an identity provider issues at a first sign-in:
 * a verified email claim and no organization (completeSignUp, acceptInvitation;
 * the user's id when the email has one, else a new one). Works while the gateway runs: it reads the gateway's `.data/gateway.json`
 * and attaches to the same embedded PostgreSQL, or uses DATABASE_ADMIN_URL.
 *
 * Prints the header as GraphiQL's Headers tab takes it,
 * `{"Authorization": "Bearer <token>"}`; `--raw` prints the bare token.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv } from '../src/config';
import { signToken } from '../src/auth/tokens';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase, type SystemDatabase } from '../src/db/system';
import { findPlatformOperator } from '../src/platform/operators';

const USAGE = [
  'usage: npm run token -- --email <email> [--org <slug>] [--expires <duration, e.g. 12h>] [--raw]',
  '       npm run token -- --platform-admin [--email <email>] [--expires <duration>] [--raw]',
  '       npm run token -- --signed-in --email <email> [--expires <duration>] [--raw]',
].join('\n');

type SigningAuth = { secret: string; issuer?: string; audience?: string };

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      org: { type: 'string' },
      expires: { type: 'string', default: '12h' },
      'platform-admin': { type: 'boolean', default: false },
      'signed-in': { type: 'boolean', default: false },
      raw: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const platformAdmin = values['platform-admin'];
  if (platformAdmin && values.org) {
    throw new Error('A platform token names no organization: leave out --org, and switch into one with the startSupportSession mutation.');
  }
  const email = values.email?.trim().toLowerCase();
  if (!email && !platformAdmin) throw new Error(`--email is required\n${USAGE}`);

  loadDotEnv();
  const print = (token: string) => console.log(values.raw ? token : JSON.stringify({ Authorization: `Bearer ${token}` }));
  const connections = await resolveConnections(loadConfig());
  try {
    const { secret, issuer, audience } = connections.auth;
    if (!secret) throw new Error('Tokens from JWT_JWKS_URL come from your identity provider; this script signs HS256 tokens with JWT_SECRET only.');
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: looking a user up across organizations needs the admin role.');
    const system = createSystemDatabase(connections.adminUrl);
    try {
      const auth = { secret, issuer, audience };
      if (email && values['signed-in']) print(await signedInToken(system, auth, email, values.expires));
      else if (email && !platformAdmin) print(await memberToken(system, auth, email, values.org, values.expires));
      else print(await platformToken(system, auth, email, values.expires));
    } finally {
      await system.close();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

/** A member's token for one of the user's organizations. */
async function memberToken(system: SystemDatabase, auth: SigningAuth, email: string, org: string | undefined, expires: string): Promise<string> {
  const user = await system.prisma.user.findUnique({
    where: { email },
    include: { memberships: { include: { organization: true }, orderBy: { createdAt: 'asc' } } },
  });
  if (!user) throw new Error(`No user with email ${email}.`);
  const slugs = user.memberships.map((m) => m.organization.slug);
  let membership;
  if (org) {
    membership = user.memberships.find((m) => m.organization.slug === org);
    if (!membership) {
      throw new Error(`${email} is not a member of organization "${org}"${slugs.length ? ` (member of: ${slugs.join(', ')})` : ''}.`);
    }
  } else if (user.memberships.length === 1) {
    membership = user.memberships[0];
  } else {
    throw new Error(
      user.memberships.length === 0
        ? `${email} is not a member of any organization.`
        : `${email} belongs to several organizations; choose one with --org (${slugs.join(', ')}).`,
    );
  }
  const token = await signToken({ ...auth, userId: user.id, organizationId: membership.organizationId, expiresIn: expires });
  console.error(`${email}, ${membership.role.toLowerCase()} of ${membership.organization.slug}, expires in ${expires}:`);
  return token;
}

/** A first sign-in's token: a verified email claim and no organization. */
async function signedInToken(system: SystemDatabase, auth: SigningAuth, email: string, expires: string): Promise<string> {
  const user = await system.prisma.user.findUnique({ where: { email }, select: { id: true } });
  const token = await signToken({ ...auth, userId: user?.id ?? randomUUID(), expiresIn: expires, extraClaims: { email, email_verified: true } });
  console.error(`${email}, signed in with no organization, expires in ${expires}:`);
  return token;
}

/** A platform operator's token: the platform scope, no organization. */
async function platformToken(system: SystemDatabase, auth: SigningAuth, email: string | undefined, expires: string): Promise<string> {
  const operator = await findPlatformOperator(system, email);
  const token = await signToken({ ...auth, userId: operator.id, expiresIn: expires, extraClaims: { platform: true } });
  console.error(`${operator.email}, platform operator (no organization), expires in ${expires}:`);
  return token;
}

main().catch((error: Error | undefined) => {
  const lines = error instanceof ConfigError ? error.problems : [error?.message ?? String(error)];
  for (const line of lines) console.error(`token: ${line}`);
  process.exit(1);
});
