import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';

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
  /** When set, a token must carry exactly this `iss`. Required in production. */
  issuer?: string;
  /** When set, a token's `aud` must name it. Required in production. */
  audience?: string;
  /**
   * Production: the verifier refuses to start without `issuer` and `audience`, so
   * that a token minted for another service of the same identity provider is refused.
   * @default false
   */
  production?: boolean;
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

export interface TokenCacheOptions {
  /**
   * Most tokens remembered; the least recently used is dropped first.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Longest a verification is reused, counted from the verification (a hit does not extend it).
   * @default 60
   */
  maxAgeSeconds?: number;
}

export interface TokenVerifierOptions {
  /**
   * Reuse successful verifications of the same token string; `false` verifies every request.
   * @default { maxEntries: 10000, maxAgeSeconds: 60 }
   */
  cache?: TokenCacheOptions | false;
  /**
   * The clock, in milliseconds since the epoch, for `exp`/`nbf` and the cache's age. Tests inject one.
   * @default Date.now
   */
  now?: () => number;
}

/** Seconds of leeway on `exp` and `nbf`, for jose and for a cache hit alike. */
const CLOCK_TOLERANCE_SECONDS = 0;

export function createTokenVerifier(config: AuthConfig, options: TokenVerifierOptions = {}): TokenVerifier {
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
  if (config.production && (!config.issuer || !config.audience)) {
    throw new Error('In production, tokens must be bound to this gateway: set JWT_ISSUER and JWT_AUDIENCE.');
  }
  const now = options.now ?? Date.now;
  // PERF: verifying a JWT was ~5% of the gateway's CPU per request, and clients re-send the same
  // few tokens. Only successes are cached (a failure is verified again every time), and a hit still
  // checks exp/nbf against the clock, so a token expires exactly when an uncached one would.
  // SECURITY: a hit skips the signature check, so a key removed from the JWKS (a rotation after a
  // compromise) keeps its already-seen tokens working for up to maxAgeSeconds after their first
  // verification, on top of the up to 10 minutes for which jose's createRemoteJWKSet keeps the old
  // key set (its cacheMaxAge). updateAgeOnGet stays false so that busy tokens cannot extend this.
  const cache =
    options.cache === false
      ? undefined
      : new LRUCache<string, TokenClaims>({
          max: options.cache?.maxEntries ?? 10_000,
          ttl: (options.cache?.maxAgeSeconds ?? 60) * 1000,
          updateAgeOnGet: false,
          // Read the clock on every lookup rather than through a 1 ms setTimeout debounce.
          ttlResolution: 0,
          // An injected clock drives the age too; otherwise lru-cache's monotonic performance.now().
          ...(options.now ? { perf: { now: options.now } } : {}),
        });

  const verify = async (token: string): Promise<TokenClaims> => {
    const { payload } = await jwtVerify(token, key as Uint8Array, {
      algorithms,
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now()),
      // SECURITY: a token without exp would be valid for ever.
      requiredClaims: ['exp'],
    });
    return readClaims(payload, now());
  };

  return async (token) => {
    try {
      const cached = cache?.get(token);
      if (cached) {
        checkTimes(cached, now());
        return cached;
      }
      // Frozen because the same object is handed to every later request with this token.
      const claims = deepFreeze(await verify(token));
      cache?.set(token, claims);
      return claims;
    } catch (error) {
      if (error instanceof errors.JWTExpired) cache?.delete(token);
      throw toTokenError(error);
    }
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Most `amr` entries read; RFC 8176 defines a dozen values. */
const MAX_AMR_ENTRIES = 32;

/**
 * How far ahead of this clock an identity provider's may run. SECURITY: a
 * session can look younger than it is by at most this much.
 */
const IAT_SKEW_SECONDS = 30;

const invalid = (message: string) => new TokenError(`Invalid token: ${message}`, 'invalid');

/**
 * The verified payload, type-checked, with its ids in canonical form.
 *
 * SECURITY: every claim the gateway acts on is checked for its type here, once,
 * so that no later comparison meets a value of the wrong type: a string `amr`
 * containing "sso" must not pass for `['sso']`, and an `org` in upper case must
 * not become a second key for the same organization (the usage recorder held
 * two, and its flush failed for every organization). Ids are lower-cased UUIDs.
 * An `iat` in the future would make a session look younger than it is
 * (sessionTimeout counts from it), so it is refused.
 */
export function readClaims(payload: JWTPayload, nowMs: number): TokenClaims {
  const { sub, org, amr, platform, support, iat } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || !UUID.test(sub)) throw invalid('sub must be a user id (a UUID)');
  if (org !== undefined && (typeof org !== 'string' || !UUID.test(org))) throw invalid('the org claim must be an organization id (a UUID)');
  if (amr !== undefined && !(Array.isArray(amr) && amr.length <= MAX_AMR_ENTRIES && amr.every((entry) => typeof entry === 'string'))) {
    throw invalid('amr must be an array of strings');
  }
  if (platform !== undefined && typeof platform !== 'boolean') throw invalid('platform must be a boolean');
  if (support !== undefined && typeof support !== 'boolean') throw invalid('support must be a boolean');
  // jose has checked that iat, when present, is a number.
  if (typeof iat === 'number' && iat > Math.floor(nowMs / 1000) + IAT_SKEW_SECONDS) throw invalid('iat is in the future');
  return {
    ...payload,
    sub: sub.toLowerCase(),
    ...(org === undefined ? {} : { org: org.toLowerCase() }),
  } as TokenClaims;
}

/** jose's own `exp`/`nbf` checks and errors, so that a cache hit fails exactly like a verification. */
function checkTimes(claims: TokenClaims, nowMs: number): void {
  const now = Math.floor(nowMs / 1000);
  if (claims.nbf !== undefined && claims.nbf > now + CLOCK_TOLERANCE_SECONDS) {
    throw new errors.JWTClaimValidationFailed('"nbf" claim timestamp check failed', claims, 'nbf', 'check_failed');
  }
  if (claims.exp !== undefined && claims.exp <= now - CLOCK_TOLERANCE_SECONDS) {
    throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  }
}

function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError('Token expired', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) return new TokenError(`Invalid token: ${error.message}`, 'invalid');
  return new TokenError('Invalid token', 'invalid');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
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
    // jti: the session's id, written with each of its mutations to the platform audit log.
    const token = await signToken({
      secret,
      userId: operatorId,
      organizationId,
      expiresIn: exp,
      issuer: config.issuer,
      audience: config.audience,
      extraClaims: { platform: true, support: true, jti: randomUUID() },
    });
    return { token, expiresAt };
  };
}
