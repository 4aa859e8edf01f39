/**
 * npm run token -- --email <email> [--org <slug>] [--expires 12h]
 *
 * Prints a signed bearer token for that user in that organization (the user's
 * only organization when --org is left out). Works while the gateway runs: it
 * attaches to the same embedded PostgreSQL, or uses DATABASE_ADMIN_URL.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { signToken } from '../src/auth/tokens';
import { resolveConnections } from '../src/db/connections';
import { createSystemDatabase } from '../src/db/system';

const USAGE = 'usage: npm run token -- --email <email> [--org <slug>] [--expires <duration, e.g. 12h>]';

async function main() {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, org: { type: 'string' }, expires: { type: 'string', default: '12h' } },
    strict: true,
  });
  if (!values.email) throw new Error(`--email is required\n${USAGE}`);
  const email = values.email.trim().toLowerCase();

  const connections = await resolveConnections(loadConfig());
  try {
    if (!connections.auth.secret) throw new Error('Tokens from JWT_JWKS_URL come from your identity provider; this script signs HS256 tokens with JWT_SECRET only.');
    if (!connections.adminUrl) throw new Error('DATABASE_ADMIN_URL is not set: looking a user up across organizations needs the admin role.');
    const system = createSystemDatabase(connections.adminUrl);
    try {
      const user = await system.prisma.user.findUnique({
        where: { email },
        include: { memberships: { include: { organization: true }, orderBy: { createdAt: 'asc' } } },
      });
      if (!user) throw new Error(`No user with email ${email}.`);
      const slugs = user.memberships.map((m) => m.organization.slug);
      let membership;
      if (values.org) {
        membership = user.memberships.find((m) => m.organization.slug === values.org);
        if (!membership) {
          throw new Error(`${email} is not a member of organization "${values.org}"${slugs.length ? ` (member of: ${slugs.join(', ')})` : ''}.`);
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
      const token = await signToken({
        secret: connections.auth.secret,
        userId: user.id,
        organizationId: membership.organizationId,
        expiresIn: values.expires,
        issuer: connections.auth.issuer,
        audience: connections.auth.audience,
      });
      console.error(`${email}, ${membership.role.toLowerCase()} of ${membership.organization.slug}, expires in ${values.expires}:`);
      console.log(token);
    } finally {
      await system.close();
    }
  } finally {
    if (connections.embedded?.startedHere) await connections.embedded.stop();
  }
}

main().catch((error: Error) => {
  console.error(`token: ${error.message}`);
  process.exit(1);
});
