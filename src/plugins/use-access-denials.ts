import { decodeGlobalID } from '@pothos/plugin-relay';
import { Kind, getOperationAST, type DocumentNode, type ExecutionResult, type FieldNode, type GraphQLError, type ValueNode } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Context } from '../context';
import type { Denial, DenialCandidate, DenialRecorder } from '../audit/access-denials';
import { bearerToken } from '../auth/bearer';
import { clientAddress } from '../auth/client-address';
import type { TokenVerifier } from '../auth/tokens';
import { datamodel } from '../generated/tenancy-datamodel';
import { readTenancy } from '../tenancy/model';

/**
 * Notes the refusals that happen during execution and after it, and writes a
 * request's denials once its response is out (src/audit/access-denials.ts;
 * the context's own refusals are noted in src/context.ts):
 *
 * - a root field that failed with FORBIDDEN (a role, a feature, a support
 *   session's bounds) or QUOTA_EXCEEDED (with the quota, for `quota.exceeded`);
 * - a root field that failed with NOT_FOUND, or answered null (`node(id:)`, `project(id:)`):
 *   the global IDs of its arguments are the candidates that
 *   app.record_access_denials() looks up as the platform; an id of another
 *   organization is a cross-organization attempt, a missing one is nothing;
 * - QUERY_TOO_COMPLEX (the operation limits refuse before the context exists:
 *   the caller is the token's, verified again here, from the cache).
 *
 * PERF: nothing on the success path but a look at `result.errors` and at the
 * root fields' names (for a null `node`); no statement. The response is never
 * changed.
 */
export function useAccessDenials({
  recorder,
  verifyToken,
  trustedProxies = [],
}: {
  recorder: DenialRecorder;
  verifyToken: TokenVerifier;
  trustedProxies?: readonly string[];
}): Plugin<Context & YogaInitialContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue;
      const viewer = ctx.viewer;
      // Refusals of a member only: an anonymous or organization-less caller has no access to be denied here.
      if (!viewer) return undefined;
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) && !('data' in result)) return;
          const denials = executionDenials(result as ExecutionResult, args.document, args.variableValues ?? {}, args.operationName ?? undefined);
          for (const denial of denials) {
            recorder.note(ctx.request, { ...denial, userId: viewer.userId, organizationId: viewer.organizationId, support: viewer.support });
          }
        },
      };
    },
    async onResultProcess({ request, result }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors) return;
      // Refused by a plugin, before or instead of execution: the operation limits, a support session's bounds.
      const refused = (result.errors as readonly GraphQLError[]).find(
        (e) => e.extensions?.code === 'QUERY_TOO_COMPLEX' || (e.extensions?.code === 'FORBIDDEN' && e.extensions.reason === 'SUPPORT_SESSION_REFUSED'),
      );
      if (!refused || recorder.has(request)) return;
      const token = bearerToken(request);
      const claims = token ? await verifyToken(token).catch(() => null) : null;
      const limit = refused.extensions.code === 'QUERY_TOO_COMPLEX';
      recorder.note(request, {
        reason: limit ? 'operation_limit' : 'forbidden',
        code: String(refused.extensions.code),
        userId: claims?.sub ?? null,
        organizationId: typeof claims?.org === 'string' ? claims.org : null,
        support: claims?.support === true,
        operation: limit ? `measure:${String(refused.extensions.measure)}` : 'support session',
      });
    },
    onResponse({ request, serverContext }) {
      if (!recorder.has(request)) return;
      const socket = (serverContext as { req?: IncomingMessage } | undefined)?.req?.socket?.remoteAddress;
      recorder.flush(request, clientAddress(request, socket, trustedProxies));
    },
    // gateway.dispose() (src/server.ts on shutdown) waits for the writes under way.
    onDispose: () => recorder.settled(),
  };
}

/** Tables of the types whose ids arguments carry: the tenant models, and the types that are not models. */
const TABLES = new Map<string, string>([
  ...readTenancy(datamodel).tenant.map((m) => [m.name, m.table] as [string, string]),
  ['WebhookEndpoint', 'webhook_endpoints'],
  ['WebhookDelivery', 'deliveries'],
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The denials of an execution's result: one per refused root field (at most one per reason and field). */
export function executionDenials(
  result: ExecutionResult,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | undefined,
): Denial[] {
  const errors = result.errors ?? [];
  const data = (result.data ?? null) as Record<string, unknown> | null;
  // The cheap exit of the success path: no error, and no root field that came back null (nothing allocated).
  const operation = errors.length > 0 || hasNull(data) ? getOperationAST(document, operationName) : null;
  if (!operation) return [];
  const fields = new Map<string, FieldNode>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.set(selection.alias?.value ?? selection.name.value, selection);
  }
  const denials: Denial[] = [];
  const seen = new Set<string>();
  const add = (key: string, denial: Denial) => {
    if (seen.has(`${key}:${denial.reason}`)) return;
    seen.add(`${key}:${denial.reason}`);
    denials.push(denial);
  };
  for (const error of errors) {
    const key = typeof error.path?.[0] === 'string' ? error.path[0] : null;
    const field = key ? fields.get(key) : undefined;
    const name = field ? `${operation.operation} ${field.name.value}` : operation.operation;
    const code = error.extensions?.code;
    if (code === 'FORBIDDEN') add(key ?? '', { reason: 'forbidden', code, operation: name });
    else if (code === 'QUOTA_EXCEEDED') {
      const { resource, limit, used } = error.extensions as { resource?: unknown; limit?: unknown; used?: unknown };
      add(key ?? '', {
        reason: 'quota_exceeded',
        code,
        operation: name,
        quota: typeof resource === 'string' ? { resource, limit: Number(limit), used: Number(used) } : undefined,
      });
    } else if (code === 'NOT_FOUND' && field) {
      const candidates = idsOf(field, variables);
      if (candidates.length > 0) add(key!, { reason: 'cross_organization', code, operation: name, candidates });
    }
  }
  // node(id:) and the get fields (project(id:)) answer null, without an error, for another organization's id as for a missing one.
  if (data) {
    for (const [key, field] of fields) {
      if (data[key] !== null) continue;
      const candidates = idsOf(field, variables);
      if (candidates.length > 0) add(key, { reason: 'cross_organization', code: null, operation: `${operation.operation} ${field.name.value}`, candidates });
    }
  }
  return denials;
}

function hasNull(data: Record<string, unknown> | null): boolean {
  if (!data) return false;
  for (const key in data) if (data[key] === null) return true;
  return false;
}

/** The global IDs in a field's arguments (literals and variables, nested inputs too), of types with a table. */
function idsOf(field: FieldNode, variables: Record<string, unknown>): DenialCandidate[] {
  const found: DenialCandidate[] = [];
  const consider = (value: unknown, depth: number) => {
    if (found.length >= 10 || depth > 5) return;
    if (typeof value === 'string') {
      if (value.length > 200) return;
      try {
        const { typename, id } = decodeGlobalID(value);
        const table = TABLES.get(typename);
        if (table && UUID.test(id)) found.push({ table, type: typename, id: id.toLowerCase() });
      } catch {
        // not a global ID
      }
    } else if (Array.isArray(value)) {
      for (const item of value.slice(0, 20)) consider(item, depth + 1);
    } else if (value && typeof value === 'object') {
      for (const item of Object.values(value).slice(0, 20)) consider(item, depth + 1);
    }
  };
  const literal = (node: ValueNode, depth: number): void => {
    switch (node.kind) {
      case Kind.STRING:
        return consider(node.value, depth);
      case Kind.VARIABLE:
        return consider(variables[node.name.value], depth);
      case Kind.LIST:
        return node.values.slice(0, 20).forEach((v) => literal(v, depth + 1));
      case Kind.OBJECT:
        return node.fields.slice(0, 20).forEach((f) => literal(f.value, depth + 1));
      default:
        return undefined;
    }
  };
  for (const argument of field.arguments ?? []) literal(argument.value, 0);
  return found;
}
