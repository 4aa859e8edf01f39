import { GraphQLError } from 'graphql';

/**
 * The errors a client may see. Each carries `extensions.code`, and those that
 * decide the whole request an HTTP status too. Everything else is masked by
 * Yoga ("Unexpected error.") and logged on the server: no stack traces, no SQL.
 */

export function unauthenticated(message = 'Authentication required'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', ...extra, http: { status: 403 } } });
}

/** A rule of the domain refuses the change as things stand (e.g. deleting a department that has members). */
export function failedPrecondition(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FAILED_PRECONDITION', ...extra } });
}

/** A create that would duplicate something unique, e.g. an organization's slug. */
export function alreadyExists(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'ALREADY_EXISTS', ...extra } });
}

/** A create that the organization's quota (its plan's limit, or an override) does not leave room for. */
export function quotaExceeded(message: string, extra: { resource: string; limit: number; used: number }): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUOTA_EXCEEDED', ...extra } });
}

/** The organization's billing does not allow this (read-only after the grace period, a canceled subscription). */
export function paymentRequired(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'PAYMENT_REQUIRED', ...extra, http: { status: 402 } } });
}

/** The same error for "does not exist" and "belongs to another organization": the two must look alike. */
export function notFound(typeName: string): GraphQLError {
  return new GraphQLError(`${typeName} not found`, { extensions: { code: 'NOT_FOUND' } });
}

export interface FieldProblem {
  /** Dotted path of the input field, e.g. `input.name`. */
  field: string;
  message: string;
}

export function badUserInput(problems: FieldProblem[]): GraphQLError {
  const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new GraphQLError(`Invalid input: ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', fields: problems, http: { status: 400 } },
  });
}

/**
 * PostgreSQL cannot be reached or is restarting (src/db/database-errors.ts,
 * isDatabaseUnavailable): the request did nothing that stays, and may be sent
 * again in a moment. 503 with Retry-After, instead of a masked 500.
 */
export function databaseUnavailable(): GraphQLError {
  return new GraphQLError('The database is unavailable for a moment: nothing was changed; retry shortly', {
    extensions: { code: 'DATABASE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': '1' } } },
  });
}
