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
  const imports = moduleReferences(readFileSync(file, 'utf8'));
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
interface ModuleReference { from: string; typeOnly: boolean; text: string }

/**
 * Every module a file names: `import … from`, `export … from` (a re-export
 * runs the module too), `import 'x'` (for its side effects), and `import('x')`
 * or `require('x')`. `import type` / `export type` carry no code.
 */
function moduleReferences(text: string): ModuleReference[] {
  const statics = [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ from: m[2], typeOnly: !!m[1], text: m[0] }));
  const sideEffects = [...text.matchAll(/^import\s+'([^']+)'/gm)].map((m) => ({ from: m[1], typeOnly: false, text: m[0] }));
  const dynamic = [...text.matchAll(/\b(?:import|require)\(\s*'([^']+)'\s*\)/g)].map((m) => ({ from: m[1], typeOnly: false, text: m[0] }));
  return [...statics, ...sideEffects, ...dynamic];
}

function valueImports(file: string): string[] {
  return moduleReferences(readFileSync(file, 'utf8'))
    .filter((m) => !m.typeOnly)
    .map((m) => m.from)
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
    return moduleReferences(readFileSync(file, 'utf8'))
      .filter(
        (m) =>
          !m.typeOnly &&
          (/db\/(system|client|embedded)$/.test(m.from) ||
            // The Prisma namespace (Prisma.sql, Prisma.Decimal) is harmless; the client class is not.
            (/generated\/prisma\/client$/.test(m.from) && /[{,]\s*PrismaClient\b/.test(m.text)) ||
            m.from === 'pg'),
      )
      .map((m) => `${path.relative(src, file)}: ${m.text}`);
  });
  expect(offending).toEqual([]);
});

describe('following imports', () => {
  it('reads every kind of module reference, and skips type-only ones', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from './b';",
      "import './c';",
      "export { d } from './d';",
      "export type { E } from './e';",
      "export * from './f';",
      "const g = await import('./g');",
      "const h = require('./h');",
      "import {\n  i,\n  type I,\n} from './i';",
    ].join('\n');
    expect(moduleReferences(text).filter((m) => !m.typeOnly).map((m) => m.from).sort()).toEqual(['./a', './c', './d', './f', './g', './h', './i']);
  });

  it('reaches a module through side-effect imports and re-exports, more than one step away', () => {
    // src/schema/index.ts imports each domain for its side effects; one of them reaches src/auth through a chain.
    const reached = reachable([path.join(src, 'schema', 'index.ts')]);
    expect(reached.has(path.join(src, 'schema', 'projects', 'project.type.ts'))).toBe(true);
    // And from the server, the walk gets to the system client (src/db is where it stops).
    expect(reachable([path.join(src, 'server.ts')]).has(path.join(src, 'db', 'system.ts'))).toBe(true);
  });
});
