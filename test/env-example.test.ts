import { readFileSync } from 'node:fs';
import path from 'node:path';

/** `.env.example` lists every variable that src/config.ts reads. */
it('.env.example names every variable loadConfig reads', () => {
  const config = readFileSync(path.join(__dirname, '..', 'src', 'config.ts'), 'utf8');
  const read = new Set([...config.matchAll(/(?:env\.|read\.\w+\(')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]));
  expect(read.size).toBeGreaterThan(15);
  const example = readFileSync(path.join(__dirname, '..', '.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  expect([...read].filter((name) => !listed.has(name))).toEqual([]);
});

