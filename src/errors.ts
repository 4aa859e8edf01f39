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

/** Prisma's "record to update/delete does not exist", which RLS also yields for another organization's row. */
export function isRecordNotFound(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'P2025';
}

/** A PostgreSQL failure as Prisma 7 (with @prisma/adapter-pg) reports it. */
export interface DatabaseFailure {
  /** The SQLSTATE, e.g. `23505`. */
  sqlState: string;
  /** The constraint or index, when the adapter passes it on (unique and foreign-key violations). */
  constraint: string | null;
  message: string;
}

interface AdapterCause {
  originalCode?: string;
  originalMessage?: string;
  code?: string;
  message?: string;
  constraint?: { index?: string };
}

/**
 * Reads the SQLSTATE and constraint out of the shapes Prisma 7 throws:
 * - a model operation: PrismaClientKnownRequestError (P2002, P2003, ...) with
 *   `meta.driverAdapterError.cause`;
 * - raw SQL: the same with code P2010;
 * - an error raised at COMMIT (a deferred constraint trigger): a bare
 *   DriverAdapterError whose `cause` has the SQLSTATE but no constraint name,
 *   because the adapter keeps the constraint only for 23505, 23503 and 23001.
 */
export function databaseFailure(error: unknown): DatabaseFailure | null {
  const e = error as { name?: unknown; cause?: AdapterCause; meta?: { driverAdapterError?: { cause?: AdapterCause } } } | null;
  const cause = e?.meta?.driverAdapterError?.cause ?? (e?.name === 'DriverAdapterError' ? e.cause : undefined);
  const sqlState = cause?.originalCode ?? cause?.code;
  if (!cause || typeof sqlState !== 'string') return null;
  return { sqlState, constraint: cause.constraint?.index ?? null, message: cause.originalMessage ?? cause.message ?? '' };
}
