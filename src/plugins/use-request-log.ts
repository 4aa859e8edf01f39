import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../ops/logger';
import { observationOf } from '../ops/request-scope';

/** Probes and scrapes, logged at debug only: every few seconds, they would drown the requests. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request: request id, organization, user, operation name and
 * type, status, duration, statements, error codes.
 *
 * SECURITY: never the token, the variables or the query text. Every text in the
 * line is safe by construction (a GraphQL Name, a percent-encoded path, a
 * filtered request id) and pino escapes it in JSON.
 */
export function useRequestLog(logger: Logger): Plugin {
  return {
    onResponse({ request, response }) {
      const observation = observationOf(request);
      if (!observation) return;
      const durationMs = Math.round((performance.now() - observation.startedAt) * 100) / 100;
      const fields = {
        requestId: observation.id,
        method: observation.method,
        path: observation.path,
        status: response.status,
        durationMs,
        statements: observation.statements,
        organizationId: observation.organizationId,
        userId: observation.userId,
        operationType: observation.operationType,
        operationName: observation.operationName,
        errors: observation.errorCodes.length ? observation.errorCodes : undefined,
      };
      const operation = observation.operationType ? ` ${observation.operationType} ${observation.operationName ?? '(anonymous)'}` : '';
      const message = `${observation.method} ${observation.path} ${response.status}${operation} ${durationMs} ms`;
      if (QUIET_PATHS.has(observation.path)) logger.debug(fields, message);
      else if (response.status >= 500) logger.error(fields, message);
      else logger.info(fields, message);
    },
  };
}
