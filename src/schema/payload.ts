import { builder } from '../builder';

type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;

/**
 * A mutation's payload type: an object over the resolver's return value
 * (`Shape`), named `<Mutation>Payload` by convention (docs/architecture.md).
 * Every payload of src/schema is made here, so they are found, named and
 * described one way.
 */
export function payloadType<Shape extends object>(
  name: `${string}Payload`,
  options: Omit<PothosSchemaTypes.ObjectTypeOptions<SchemaTypes, Shape>, 'name'>,
) {
  return builder.objectRef<Shape>(name).implement(options);
}
