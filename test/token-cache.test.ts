import * as jose from 'jose';
import { createTokenVerifier, signToken, TokenError, type TokenVerifierOptions } from '../src/auth/tokens';

/**
 * The verifier's cache of successful verifications: a hit costs no jose
 * verification, but still expires with the token's exp, failures are never
 * cached, and both caps evict.
 */

// Counts jose verifications: the verifier imports jwtVerify from this mocked module.
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof import('jose')>('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
const jwtVerify = jest.mocked(jose.jwtVerify);

const SECRET = 'token-cache-test-secret-of-enough-length';
const USER = '00000000-0000-4000-8000-000000000001';
const ORG = '00000000-0000-4000-8000-000000000002';
/** A fixed start, in whole seconds, so that exp arithmetic is exact. */
const T0 = Date.UTC(2030, 0, 1) / 1000;

/** A verifier on a clock the test moves (milliseconds since the epoch). */
function verifierAt(startMs: number, options: Omit<TokenVerifierOptions, 'now'> = {}) {
  const clock = { ms: startMs };
  const verify = createTokenVerifier({ secret: SECRET }, { ...options, now: () => clock.ms });
  return { clock, verify };
}

const tokenFor = (claims: { exp: number; nbf?: number; org?: string }) =>
  signToken({ secret: SECRET, userId: USER, organizationId: claims.org ?? ORG, expiresIn: claims.exp, extraClaims: { amr: ['pwd'], ...(claims.nbf ? { nbf: claims.nbf } : {}) } });

/** How the verifier rejects: TokenError's message and reason. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof TokenError ? { message: error.message, reason: error.reason } : error),
  );

beforeEach(() => jwtVerify.mockClear());

it('verifies a token again from the cache, with one jose verification', async () => {
  const { clock, verify } = verifierAt(T0 * 1000);
  const token = await tokenFor({ exp: T0 + 3600 });
  const first = await verify(token);
  clock.ms += 5000;
  const second = await verify(token);
  expect(second).toEqual(first);
  expect(second).toEqual(expect.objectContaining({ sub: USER, org: ORG, amr: ['pwd'] }));
  expect(jwtVerify).toHaveBeenCalledTimes(1);
});

it('hands out claims that a caller cannot change for the next request', async () => {
  const { verify } = verifierAt(T0 * 1000);
  const token = await tokenFor({ exp: T0 + 3600 });
  const claims = await verify(token);
  expect(Reflect.set(claims, 'org', 'another-org')).toBe(false);
  expect(() => claims.amr?.push('sso')).toThrow(TypeError);
  expect(await verify(token)).toEqual(expect.objectContaining({ org: ORG, amr: ['pwd'] }));
  expect(jwtVerify).toHaveBeenCalledTimes(1);
});

it('rejects a cached token once it has expired, exactly as an uncached expired token', async () => {
  const { clock, verify } = verifierAt(T0 * 1000);
  const token = await tokenFor({ exp: T0 + 30 });
  await verify(token);
  clock.ms = (T0 + 29) * 1000 + 999;
  await expect(verify(token)).resolves.toEqual(expect.objectContaining({ sub: USER }));
  expect(jwtVerify).toHaveBeenCalledTimes(1);

  clock.ms = (T0 + 30) * 1000; // exp <= now: expired, as jose has it
  const cached = await failure(verify(token));
  expect(jwtVerify).toHaveBeenCalledTimes(1); // the hit was refused without verifying again
  const uncached = await failure(createTokenVerifier({ secret: SECRET }, { cache: false, now: () => clock.ms })(token));
  expect(cached).toEqual({ message: 'Token expired', reason: 'expired' });
  expect(cached).toEqual(uncached);
  // Dropped from the cache: the next attempt is verified, and fails the same way.
  await expect(failure(verify(token))).resolves.toEqual(uncached);
  expect(jwtVerify).toHaveBeenCalledTimes(3);
});

it('re-checks nbf on a hit, as jose does', async () => {
  const { clock, verify } = verifierAt((T0 + 10) * 1000);
  const token = await tokenFor({ exp: T0 + 3600, nbf: T0 + 10 });
  await verify(token);
  clock.ms = (T0 + 9) * 1000; // the wall clock stepped back
  const cached = await failure(verify(token));
  const uncached = await failure(createTokenVerifier({ secret: SECRET }, { cache: false, now: () => clock.ms })(token));
  expect(cached).toEqual({ message: 'Invalid token: "nbf" claim timestamp check failed', reason: 'invalid' });
  expect(cached).toEqual(uncached);
});

it('never caches a failure', async () => {
  const { verify } = verifierAt(T0 * 1000);
  const good = await tokenFor({ exp: T0 + 3600 });
  const badSignature = good.replace(/.{4}$/, 'AAAA');
  await expect(failure(verify(badSignature))).resolves.toEqual({ message: 'Invalid token', reason: 'invalid' });
  await expect(failure(verify(badSignature))).resolves.toEqual({ message: 'Invalid token', reason: 'invalid' });
  expect(jwtVerify).toHaveBeenCalledTimes(2);

  // A good signature whose claims the verifier refuses (no sub) is not cached either.
  const noSubject = await new jose.SignJWT({ org: ORG }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(T0 + 3600).sign(new TextEncoder().encode(SECRET));
  await expect(failure(verify(noSubject))).resolves.toEqual({ message: 'Invalid token: sub must be a user id (a UUID)', reason: 'invalid' });
  await expect(failure(verify(noSubject))).resolves.toEqual({ message: 'Invalid token: sub must be a user id (a UUID)', reason: 'invalid' });
  expect(jwtVerify).toHaveBeenCalledTimes(4);

  // The good token was never in the cache because of its tampered twin.
  await verify(good);
  expect(jwtVerify).toHaveBeenCalledTimes(5);
});

it('evicts the least recently used token beyond maxEntries', async () => {
  const { verify } = verifierAt(T0 * 1000, { cache: { maxEntries: 2 } });
  const [a, b, c] = await Promise.all([1, 2, 3].map((i) => tokenFor({ exp: T0 + 3600 + i })));
  await verify(a);
  await verify(b);
  await verify(c); // evicts a
  expect(jwtVerify).toHaveBeenCalledTimes(3);
  await verify(b);
  await verify(c);
  expect(jwtVerify).toHaveBeenCalledTimes(3);
  await verify(a);
  expect(jwtVerify).toHaveBeenCalledTimes(4);
});

it('verifies again after maxAgeSeconds (60 by default), however often the token was used', async () => {
  const { clock, verify } = verifierAt(T0 * 1000);
  const token = await tokenFor({ exp: T0 + 3600 });
  await verify(token);
  for (const at of [1, 30, 59.999]) {
    clock.ms = (T0 + at) * 1000;
    await verify(token);
  }
  expect(jwtVerify).toHaveBeenCalledTimes(1);
  clock.ms = (T0 + 60.001) * 1000;
  await verify(token);
  expect(jwtVerify).toHaveBeenCalledTimes(2);

  const short = verifierAt(T0 * 1000, { cache: { maxAgeSeconds: 5 } });
  await short.verify(token);
  short.clock.ms = (T0 + 5.001) * 1000;
  await short.verify(token);
  expect(jwtVerify).toHaveBeenCalledTimes(4);
});

it('verifies every time with cache: false', async () => {
  const { verify } = verifierAt(T0 * 1000, { cache: false });
  const token = await tokenFor({ exp: T0 + 3600 });
  await verify(token);
  await verify(token);
  expect(jwtVerify).toHaveBeenCalledTimes(2);
});
