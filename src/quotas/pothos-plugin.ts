import './global-types';
import SchemaBuilder, { BasePlugin, PothosSchemaError, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import type { QuotaOption } from './global-types';

/**
 * A Pothos plugin for the field option `quota` of mutations:
 *
 *   builder.mutationField('createProject', (t) => t.field({ quota: 'PROJECTS', ... }))
 *
 * wraps the resolver in the builder's `quotas.enforce` (src/quotas/enforce.ts), so
 * no resolver checks a quota by hand. Registered after ScopeAuth and Validation:
 * Pothos wraps resolvers in plugin order (the first outermost) and validates
 * arguments before all of them, so an unauthorized or invalid request fails
 * with FORBIDDEN or BAD_USER_INPUT before it could see QUOTA_EXCEEDED, and takes
 * no lock.
 */
export class PothosQuotasPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const option = (fieldConfig.pothosOptions as { quota?: QuotaOption<Types, never> }).quota;
    if (!option) return resolver;
    if (fieldConfig.kind !== 'Mutation') {
      throw new PothosSchemaError(`${fieldConfig.parentType}.${fieldConfig.name}: \`quota\` is for mutations`);
    }
    const enforce = this.builder.options.quotas?.enforce;
    if (!enforce) throw new PothosSchemaError('The quotas plugin needs `quotas: { enforce }` in the builder options');
    const { resource, amount } = typeof option === 'string' ? { resource: option, amount: () => 1 } : option;

    return (parent, args, ctx, info) =>
      enforce(ctx, { resource, amount: amount(args as never, ctx) }, async (inQuota) => resolver(parent, args, inQuota, info));
  }
}

SchemaBuilder.registerPlugin('quotas', PothosQuotasPlugin);

export default 'quotas' as const;
