import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { isObjectType, printSchema, type GraphQLResolveInfo } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
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

it("a node's id resolves synchronously, to the same Relay global ID (src/builder.ts)", () => {
  for (const [typename, row] of [
    ['Project', { id: '0190a1b2-0000-7000-8000-000000000001', organizationId: '0190a1b2-0000-7000-8000-000000000002' }],
    ['User', { id: '0190a1b2-0000-7000-8000-000000000003' }],
  ] as const) {
    const type = schema.getType(typename);
    if (!isObjectType(type)) throw new Error(`${typename} is not an object type`);
    const info = { parentType: type, fieldName: 'id', path: { key: 'id', prev: undefined, typename } } as unknown as GraphQLResolveInfo;
    const value = type.getFields().id.resolve!(row, {}, {}, info);
    // A string, not a promise: GraphQL then need not wait for every node of a page.
    expect(value).toBe(encodeGlobalID(typename, row.id));
  }
});
