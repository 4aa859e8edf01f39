import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Resolvers reach PostgreSQL only through the request's tenant client. A
 * resolver file that imported the raw client or the system client could skip
 * the tenant scope; this keeps that from happening by accident.
 */

function isFile(candidate: string): boolean {
  // A JSON import (`./x.json`) resolves to itself; `x.json/index.ts` is ENOTDIR, not "no such file".
  try {
    return statSync(candidate).isFile();
  } catch {
    return false;
  }
}

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

/**
 * The same rule, followed through imports: every module a resolver file
 * reaches, transitively, outside src/db (which owns PostgreSQL and hands out
 * the tenant and system clients), imports neither the system client's value,
 * nor a PrismaClient, nor pg. Type-only imports carry no code and are not followed.
 */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)]
    .filter((m) => !m[1])
    .map((m) => m[2])
    .filter((from) => from.startsWith('.'))
    .map((from) => path.resolve(path.dirname(file), from))
    .map((base) => [base, `${base}.ts`, path.join(base, 'index.ts')].find((candidate) => isFile(candidate)))
    .filter((resolved): resolved is string => resolved !== undefined);
}

function reachable(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    // src/db is the boundary: what it imports is its own business.
    if (file.startsWith(path.join(src, 'db') + path.sep) || file.startsWith(path.join(src, 'generated') + path.sep)) continue;
    stack.push(...valueImports(file));
  }
  return seen;
}

it('no module a resolver reaches through value imports (outside src/db) imports the system client, a PrismaClient or pg', () => {
  const reached = [...reachable(resolverFiles)].filter(
    (f) => !f.startsWith(path.join(src, 'db') + path.sep) && !f.startsWith(path.join(src, 'generated') + path.sep),
  );
  // Not vacuous: it reaches beyond the resolver files (src/auth, src/quotas, src/usage, ...).
  expect(reached.length).toBeGreaterThan(resolverFiles.length);
  const offending = reached.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)]
      .filter(
        (m) =>
          !m[1] &&
          (/db\/(system|client|embedded)$/.test(m[2]) ||
            // The Prisma namespace (Prisma.sql, Prisma.Decimal) is harmless; the client class is not.
            (/generated\/prisma\/client$/.test(m[2]) && /[{,]\s*PrismaClient\b/.test(m[0])) ||
            m[2] === 'pg'),
      )
      .map((m) => `${path.relative(src, file)}: ${m[0]}`);
  });
  expect(offending).toEqual([]);
});
