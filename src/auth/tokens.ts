import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * Bearer tokens. `sub` is the user, `org` the active organization (both UUIDs).
 * HS256 with a shared secret in development; RS256/ES256 from an identity
 * provider's JWKS in production.
 */

export interface TokenClaims extends JWTPayload {
  sub: string;
  /** The active organization. */
  org?: string;
  /** Authentication methods (RFC 8176); `sso` satisfies an organization's enforceSSO. */
  amr?: string[];
  /** Claims the platform operator scope; honoured only for users listed in platform_operators. */
  platform?: boolean;
  /** A platform operator's support session in `org` (minted by startSupportSession). */
  support?: boolean;
}

export interface AuthConfig {
  /** Shared secret for HS256 tokens (development, tests, `npm run token`). */
  secret?: string;
  /** JWKS endpoint of an identity provider; takes precedence over `secret`. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export type TokenVerifier = (token: string) => Promise<TokenClaims>;

export class TokenError extends Error {
  constructor(
    message: string,
    readonly reason: 'expired' | 'invalid',
  ) {
    super(message);
  }
}

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (config.jwksUrl) {
    key = createRemoteJWKSet(new URL(config.jwksUrl));
    algorithms = ['RS256', 'ES256', 'PS256', 'EdDSA'];
  } else if (config.secret) {
    key = new TextEncoder().encode(config.secret);
    algorithms = ['HS256'];
  } else {
    throw new Error('No way to verify tokens: set JWT_SECRET (HS256) or JWT_JWKS_URL (an identity provider).');
  }
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        issuer: config.issuer,
        audience: config.audience,
      });
      if (typeof payload.sub !== 'string') throw new TokenError('Token has no subject (sub)', 'invalid');
      return payload as TokenClaims;
    } catch (error) {
      if (error instanceof TokenError) throw error;
      if (error instanceof errors.JWTExpired) throw new TokenError('Token expired', 'expired');
      if (error instanceof errors.JWTClaimValidationFailed) throw new TokenError(`Invalid token: ${error.message}`, 'invalid');
      throw new TokenError('Invalid token', 'invalid');
    }
  };
}

export interface SignOptions {
  secret: string;
  userId: string;
  organizationId?: string;
  /**
   * Lifetime, in jose's notation.
   * @default '12h'
   */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
  extraClaims?: Record<string, unknown>;
}

/** Signs an HS256 token; used by `npm run token`, the demo and the tests. */
export async function signToken(options: SignOptions): Promise<string> {
  const jwt = new SignJWT({ ...(options.organizationId ? { org: options.organizationId } : {}), ...options.extraClaims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

/**
 * Signs support-session tokens with the local secret: a platform operator acting
 * as an admin in one organization, for one hour.
 */
export function supportTokenSigner(config: AuthConfig, lifetimeSeconds = 3600) {
  const secret = config.jwksUrl ? undefined : config.secret;
  if (!secret) return undefined;
  return async ({ operatorId, organizationId }: { operatorId: string; organizationId: string }) => {
    // Whole seconds, so that the reported expiresAt is the token's exp claim exactly.
    const exp = Math.floor(Date.now() / 1000) + lifetimeSeconds;
    const expiresAt = new Date(exp * 1000);
    const token = await signToken({
      secret,
      userId: operatorId,
      organizationId,
      expiresIn: exp,
      issuer: config.issuer,
      audience: config.audience,
      extraClaims: { platform: true, support: true },
    });
    return { token, expiresAt };
  };
}
