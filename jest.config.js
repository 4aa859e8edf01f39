/** @type {import('jest').Config} */
const swc = (syntax) => ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax } }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': swc('typescript'),
    // jose and graphile-worker are published as ES modules only; jest's CommonJS runtime needs it transformed.
    '^.+\\.m?js$': swc('ecmascript'),
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|graphile-worker)/)'],
  // The generated Prisma client imports its siblings as './x.js' (NodeNext style).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60000,
  // Snapshots are updated on purpose (`npx jest --ci=false -u`), never in CI.
  ci: true,
};
