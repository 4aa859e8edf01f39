import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Resolvers reach PostgreSQL only through the request's tenant client. A
 * resolver file that imported the raw client or the system client could skip
 * the tenant scope; this keeps that from happening by accident.
 */

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const src = path.join(__dirname, '..', 'src');
const resolverFiles = [...files(path.join(src, 'schema')), path.join(src, 'builder.ts'), path.join(src, 'context.ts'), path.join(src, 'loaders.ts')];

it('finds the resolver files (the checks below are not vacuous)', () => {
  expect(resolverFiles.length).toBeGreaterThan(5);
});

it.each(resolverFiles.map((f) => [path.relative(src, f), f]))('%s imports neither the system client nor a PrismaClient', (_, file) => {
  const text = readFileSync(file, 'utf8');
  const imports = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ typeOnly: !!m[1], from: m[2], text: m[0] }));
  const offending = imports.filter(
    (i) =>
      (/db\/system$/.test(i.from) && !i.typeOnly) ||
      /db\/embedded$/.test(i.from) ||
      (/db\/client$/.test(i.from) && !i.typeOnly) ||
      (/generated\/prisma\/client$/.test(i.from) && !i.typeOnly) ||
      (/^pg$/.test(i.from) && !i.typeOnly),
  );
  expect(offending.map((i) => i.text)).toEqual([]);
});
