import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * `npm run build` (scripts/build.mjs: tsc -p tsconfig.build.json, what the
 * Dockerfile and `npm run start:prod` run) type-checks: every file it compiles,
 * `tenantgate/testing` with its jest suites included. It once failed on jest's
 * globals while the suite, which runs the sources through ts-jest, stayed green.
 */
it('the production build compiles', async () => {
  const result = await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noEmit'], { timeout: 170_000 }).catch(
    (error: { code?: number; stdout?: string }) => ({ stdout: error.stdout ?? String(error), failed: true }),
  );
  expect('failed' in result ? result.stdout : '').toBe('');
}, 180_000);
