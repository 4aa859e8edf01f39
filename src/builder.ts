import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { DateTimeResolver } from 'graphql-scalars';
import type { Role } from './generated/prisma/client';
import type PrismaTypes from './generated/pothos-types';
import { getDatamodel } from './generated/pothos-types';
import type { Context } from './context';
import { badUserInput, forbidden, unauthenticated } from './errors';

/**
 * The Pothos builder: plugins and scalars, no types. Types live in src/schema/,
 * one file per domain.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** A verified member of the active organization. */
    member: boolean;
    /** The viewer's role is one of these. */
    role: Role[];
  };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      member: ctx.viewer !== null,
      role: (roles) => ctx.viewer !== null && roles.includes(ctx.viewer.role),
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer ? forbidden('Your role does not allow this') : unauthenticated(),
  },
  prisma: {
    // The request's tenant client: every query Pothos plans runs scoped by RLS.
    client: (ctx) => ctx.tenantDb(),
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: false,
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        throw badUserInput([{ field: 'id', message: 'is not a valid ID' }]);
      }
    },
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

builder.addScalarType('DateTime', DateTimeResolver);
