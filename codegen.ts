import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed client, generated from the committed schema.graphql (no database or
 * server needed): `npm run codegen`. The integration tests write their
 * operations with `graphql(...)` from test/gql and get typed results;
 * test/schema.test.ts fails when the output is stale.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/gql/': {
      preset: 'client',
      config: {
        scalars: { DateTime: 'string', Date: 'string', SafeInt: 'number' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
