import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index';

/** The committed schema.graphql and typed client must match the code. */

const root = path.join(__dirname, '..');

it('schema.graphql is the printed Pothos schema (run `npm run schema` after changing src/schema)', () => {
  const committed = readFileSync(path.join(root, 'schema.graphql'), 'utf8');
  expect(committed).toBe(`${printSchema(schema)}\n`);
});

it('the typed client in test/gql is current (run `npm run codegen` after changing schema.graphql or an operation)', async () => {
  const run = promisify(execFile);
  const codegen = path.join(root, 'node_modules', '.bin', 'graphql-codegen');
  // --check generates in memory and exits non-zero when a file would change.
  await expect(run(codegen, ['--config', 'codegen.ts', '--check'], { cwd: root })).resolves.toBeDefined();
});
