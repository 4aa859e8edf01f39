import { GraphQLError } from 'graphql';

/** The errors of domains, invitations and signup, each with its own extensions.code. */

/** Something is held by someone else: a domain verified by another organization. */
export function conflict(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'CONFLICT', ...extra, http: { status: 409 } } });
}

/** The proof was not found, or the token no longer counts; `reason` says which. */
export function verificationFailed(message: string, reason: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VERIFICATION_FAILED', reason } });
}

export function rateLimited(message: string, retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'RATE_LIMITED', retryAfterSeconds } });
}

/** An invitation that cannot be used: unknown, expired, answered, revoked, or for another email; all look alike. */
export function invitationInvalid(message = 'This invitation is not valid: it may have expired, been revoked or already been answered, or be for another email address'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'INVITATION_INVALID' } });
}
