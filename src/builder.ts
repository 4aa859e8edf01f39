import SchemaBuilder, { completeValue, RootFieldBuilder } from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import type { GraphQLError } from 'graphql';
import ValidationPlugin from '@pothos/plugin-validation';
import { DateResolver, DateTimeResolver, SafeIntResolver } from 'graphql-scalars';
import type { Role } from './generated/prisma/client';
import type PrismaTypes from './generated/pothos-types';
import { getDatamodel } from './generated/pothos-types';
import type { Context } from './context';
import { badUserInput, forbidden, unauthenticated } from './errors';
import type { Feature } from './settings';
import QuotasPlugin from './quotas/pothos-plugin';
import { withinQuota } from './quotas/enforce';
import { isProduction } from './config';
import { INSTALLED_PATCHES, installedPatchApplied, PATCHES, patchApplies } from './patches';
import type { FileUpload } from './storage/upload';

/**
 * The Pothos builder: plugins and scalars, no types. Types live in src/schema/,
 * one file per domain.
 */
// Checked, not applied, here: npm's postinstall applies them (patches/); missing, the gateway says so.
installedPatchApplied(INSTALLED_PATCHES.selectionMapperResponsePath);
installedPatchApplied(INSTALLED_PATCHES.prismaLazyCursors);

/**
 * PERF: @pothos/plugin-relay's `t.globalID` (the `id` of every node type) has an
 * `async` resolver, so every node's `id` is a promise: GraphQL then resolves each
 * node as an object with a pending field (graphql-tools' promiseForObject), a
 * quarter of the memory a page request allocated, and more garbage collections,
 * the main cause of the page's p99 (`npm run bench:in-process`). The same
 * resolver, completed synchronously when the id is at hand (completeValue):
 * same IDs, same encoding (the relay option `encodeGlobalID`, when set, else the
 * plugin's). test/schema.test.ts checks that a node's id resolves synchronously.
 */
type GlobalIDResult = { type: string | object; id: string | number | bigint } | string | null | undefined;
if (patchApplies(PATCHES.relayGlobalId)) {
  (RootFieldBuilder.prototype as unknown as { globalID: unknown }).globalID = function globalID(
    this: RootFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<object>, unknown>,
    { resolve, ...options }: { resolve: (...args: unknown[]) => GlobalIDResult | Promise<GlobalIDResult> },
  ) {
    const { builder } = this as unknown as { builder: { configStore: { getTypeConfig(ref: unknown): { name: string } }; options: { relay?: { encodeGlobalID?: (typename: string, id: string, ctx: unknown) => string } } } };
    return (this as unknown as { field(config: object): unknown }).field({
      ...options,
      type: 'ID',
      resolve: (parent: unknown, args: unknown, context: unknown, info: unknown) =>
        completeValue(resolve(parent, args, context, info), (result) => {
          if (!result || typeof result !== 'object') return result;
          const typename = builder.configStore.getTypeConfig(result.type).name;
          const encode = builder.options.relay?.encodeGlobalID;
          return encode ? encode(typename, String(result.id), context) : encodeGlobalID(typename, String(result.id));
        }),
    });
  };
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** A verified member of the active organization. */
    member: boolean;
    /** The viewer's role is one of these. */
    role: Role[];
    /** The organization has this feature switched on in settings.features. */
    feature: Feature;
    /** A platform operator: not an organization role, a separate scope (see platform_operators). */
    platform: boolean;
    /** A verified token, with or without an organization (signup, invitations). */
    signedIn: boolean;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** A calendar day, `YYYY-MM-DD`: midnight UTC as a Date. */
    Date: { Input: Date; Output: Date };
    /** Integers beyond GraphQL's 32-bit Int (bytes, minor units of money), up to 2^53 - 1. */
    SafeInt: { Input: number; Output: number | bigint };
    /** A file part of a multipart request (src/schema/files/upload.scalar.ts). */
    Upload: { Input: FileUpload; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  // Quotas last: it wraps inside scope-auth, and arguments are validated before
  // any wrapper, so only authorized, valid requests reach a quota check.
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin, QuotasPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      member: ctx.viewer !== null,
      role: (roles) => ctx.viewer !== null && roles.includes(ctx.viewer.role),
      feature: (feature) => ctx.organization?.settings.features[feature] === true,
      platform: ctx.platformOperator !== null,
      signedIn: ctx.claims !== null,
    }),
    unauthorizedError: (_parent, ctx, _info, result) => scopeError(ctx, result.failure),
  },
  prisma: {
    // The request's tenant client: every query Pothos plans runs scoped by RLS.
    client: (ctx) => ctx.tenantDb(),
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: isProduction() ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: false,
    decodeGlobalID: (globalID) => decodeNodeId(globalID),
  },
  quotas: {
    // Mutations run only for a member (the Mutation type's scope), so there is a
    // viewer. The resolver gets the check's transaction as its tenantDb().
    enforce: (ctx, claim, write) => withinQuota(ctx.tenantDb(), ctx.viewer!.organizationId, claim, (tx) => write({ ...ctx, tenantDb: () => tx })),
  },
  validation: {
    validationError: (failure) =>
      badUserInput(
        failure.issues.map((issue) => ({
          field: (issue.path ?? []).map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.') || 'input',
          message: issue.message,
        })),
      ),
  },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `node(id:)`'s decoder. SECURITY: a global ID is user text. One that does not
 * decode to a known object type and a UUID is BAD_USER_INPUT, before anything
 * reads it: Pothos otherwise threw an error naming the decoded type (newlines and
 * terminal escapes included, written to the log as they were), and a row id that
 * is not a UUID failed in PostgreSQL as an unexpected error.
 */
function decodeNodeId(globalID: string): { typename: string; id: string } {
  let decoded: { typename: string; id: string } | null = null;
  try {
    decoded = decodeGlobalID(globalID);
  } catch {
    // refused below
  }
  // An object type of the schema with an `id`: the ids of ID arguments (an
  // invitation's, a webhook endpoint's) name object types that are not Relay
  // nodes; each resolver then checks the type it expects (globalIdOf).
  const known = (typename: string) => {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(typename) || !builder.configStore.hasConfig(typename)) return false;
    return builder.configStore.getTypeConfig(typename).kind === 'Object' && builder.configStore.getFields(typename).has('id');
  };
  if (!decoded || !UUID.test(decoded.id) || !known(decoded.typename)) throw badUserInput([{ field: 'id', message: 'is not a valid ID' }]);
  return { typename: decoded.typename, id: decoded.id.toLowerCase() };
}

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('Date', DateResolver);
// Prisma returns BIGINT columns as bigint; JSON has no bigint. Within 2^53 a
// number is exact, and beyond it SafeInt refuses rather than rounds.
builder.addScalarType('SafeInt', SafeIntResolver, {
  serialize: (value) => SafeIntResolver.serialize(typeof value === 'bigint' ? Number(value) : value),
});

/** The first scope that failed, for an error that says what is missing. */
function failedScope(failure: AuthFailure): { scope: string; parameter: unknown } | null {
  if (failure.kind === AuthScopeFailureType.AuthScope) return failure;
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    for (const inner of failure.failures) {
      const found = failedScope(inner);
      if (found) return found;
    }
  }
  return null;
}

function scopeError(ctx: Context, failure: AuthFailure): GraphQLError {
  const failed = failedScope(failure);
  if (!ctx.viewer && !ctx.platformOperator && !ctx.claims) return unauthenticated();
  switch (failed?.scope) {
    case 'feature':
      return forbidden(`This organization does not have the ${String(failed.parameter)} feature`, { feature: failed.parameter });
    case 'platform':
      return forbidden('Only platform operators may do this');
    case 'role':
      return forbidden(`Requires the role ${(failed.parameter as Role[]).join(' or ')}`);
    case 'member':
      return forbidden('This needs an active organization: a token with an org claim');
    default:
      return forbidden('Not allowed');
  }
}
