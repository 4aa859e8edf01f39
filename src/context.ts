import type { YogaInitialContext } from 'graphql-yoga';
import type { Role } from './generated/prisma/client';
import type { Database } from './db/client';
import { createTenantClient, type TenantClient } from './db/tenant';
import { TokenError, type TokenVerifier } from './auth/tokens';
import { forbidden, unauthenticated } from './errors';
import { createLoaders, type Loaders } from './loaders';

/** Who is calling: verified from the bearer token, membership checked on this request. */
export interface Viewer {
  userId: string;
  organizationId: string;
  role: Role;
}

export interface Context {
  /** Null for a request without a token: it may introspect, and nothing else. */
  viewer: Viewer | null;
  /**
   * The request's tenant client: every operation on it is scoped to the viewer's
   * organization by RLS. Resolvers reach the database only through this.
   */
  tenantDb(): TenantClient;
  loaders: Loaders;
}

export interface ContextDependencies {
  db: Database;
  verifyToken: TokenVerifier;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  return match[1];
}

export function createContextFactory({ db, verifyToken }: ContextDependencies) {
  return async function createContext({ request }: YogaInitialContext): Promise<Context> {
    const token = bearerToken(request);
    if (!token) {
      // Fails closed: no organization, so the tenant client sees no tenant rows.
      const anonymous = createTenantClient(db.prisma, { organizationId: null });
      return { viewer: null, tenantDb: () => anonymous, loaders: createLoaders(anonymous, null) };
    }

    const claims = await verifyToken(token).catch((error: unknown) => {
      if (error instanceof TokenError) throw unauthenticated(error.message);
      throw error;
    });
    if (!UUID.test(claims.sub)) throw unauthenticated('Invalid token: sub is not a user id');
    if (typeof claims.org !== 'string' || !UUID.test(claims.org)) {
      throw unauthenticated('Invalid token: the org claim must name the active organization');
    }

    const tenantDb = createTenantClient(db.prisma, { organizationId: claims.org, userId: claims.sub });
    const loaders = createLoaders(tenantDb, claims.org);
    // SECURITY: the token alone is not enough; membership is checked on every
    // request, so a removed member loses access at once. The loader caches the
    // answer for the rest of this request only.
    const role = await loaders.role.load(claims.sub);
    if (!role) throw forbidden('You are not a member of this organization');

    return { viewer: { userId: claims.sub, organizationId: claims.org, role }, tenantDb: () => tenantDb, loaders };
  };
}
