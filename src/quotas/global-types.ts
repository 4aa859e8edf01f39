import type { FieldNullability, InputFieldMap, InputShapeFromFields, SchemaTypes, TypeParam } from '@pothos/core';
import type { QuotaResource } from '../generated/prisma/enums';
import type { QuotaClaim } from './enforce';
import type { PothosQuotasPlugin } from './pothos-plugin';

/** A mutation's quota: the resource it creates one of, or the resource and how much of it. */
export type QuotaOption<Types extends SchemaTypes, Args extends InputFieldMap> =
  | QuotaResource
  | {
      resource: QuotaResource;
      /** How much the mutation adds, from its (validated) arguments, e.g. the bytes of an upload. */
      amount: (args: InputShapeFromFields<Args>, ctx: Types['Context']) => number;
    };

export interface QuotasPluginOptions<Types extends SchemaTypes> {
  /**
   * Runs `write` (the resolver) when the request's organization has room for the
   * claim, and throws otherwise; race-free, so it runs `write` inside its check,
   * passing the context `write` is to run with: one whose database client is
   * the check's transaction.
   */
  enforce: <T>(ctx: Types['Context'], claim: QuotaClaim, write: (ctx: Types['Context']) => Promise<T>) => Promise<T>;
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      quotas: PothosQuotasPlugin<Types>;
    }

    export interface SchemaBuilderOptions<Types extends SchemaTypes> {
      quotas?: QuotasPluginOptions<Types>;
    }

    // Mutations only: a quota guards a create.
    export interface MutationFieldOptions<
      Types extends SchemaTypes,
      Type extends TypeParam<Types>,
      Nullable extends FieldNullability<Type>,
      Args extends InputFieldMap,
      ResolveReturnShape,
    > {
      /**
       * The quota this mutation creates against: the resolver runs only when the
       * organization has room, in one transaction with the check (QUOTA_EXCEEDED
       * otherwise, and nothing written). Checked after authScopes and validation.
       */
      quota?: QuotaOption<Types, Args>;
    }
  }
}
