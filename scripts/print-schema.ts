/** npm run schema: prints the Pothos schema (sorted) to schema.graphql. test/schema.test.ts fails when the file is stale. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index';

const file = path.join(__dirname, '..', 'schema.graphql');
writeFileSync(file, `${printSchema(schema)}\n`);
console.log(`Wrote ${path.relative(process.cwd(), file)}`);
