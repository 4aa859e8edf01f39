import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * A frontend's own typed client, generated from tenantgate's committed
 * schema.graphql (or from a running gateway: `schema: 'http://localhost:4000/graphql'`
 * with an Authorization header). Run from the repository's root:
 * `npx graphql-codegen --config examples/typed-client/codegen.ts`.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/typed-client/src/**/*.ts', '!examples/typed-client/src/gql/**'],
  generates: {
    'examples/typed-client/src/gql/': {
      preset: 'client',
      config: {
        // tenantgate's custom scalars as they travel in JSON.
        scalars: { DateTime: 'string', Date: 'string', SafeInt: 'number' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
