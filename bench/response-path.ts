/**
 * npx tsx bench/response-path.ts   (run with `node --max-semi-space-size=32 --import tsx` to see the gateway's case)
 *
 * ADR 0095: the cost of @pothos/selection-mapper's `responsePath` for a page of
 * 20 rows with a relation, as plugin-prisma asks it (three fresh GraphQL path
 * links per row): the library's memo in a process-wide WeakMap, the same memo
 * in a WeakMap per request, and the patched function (patches/), installed.
 */
import path from 'node:path';

type Link = { prev: Link | undefined; key: string | number; typename: string | undefined };
const installed = require(path.join(path.dirname(require.resolve('@pothos/selection-mapper')), 'loader-map.js')) as { responsePath(link: Link | undefined): string };

function memoised(keys: () => WeakMap<Link, string>) {
  const responsePath = (link: Link | undefined): string => {
    if (!link) return '';
    let key = keys().get(link);
    if (key === undefined) {
      const prefix = responsePath(link.prev);
      key = typeof link.key === 'string' ? (prefix ? `${prefix}.${link.key}` : link.key) : prefix;
      keys().set(link, key);
    }
    return key;
  };
  return responsePath;
}

const processWide = new WeakMap<Link, string>();
let perRequest = new WeakMap<Link, string>();
const variants: [string, (link: Link | undefined) => string, () => void][] = [
  ['library (process-wide WeakMap)', memoised(() => processWide), () => undefined],
  ['WeakMap per request', memoised(() => perRequest), () => (perRequest = new WeakMap())],
  ['installed (patched)', installed.responsePath, () => undefined],
];
const add = (prev: Link | undefined, key: string | number, typename?: string): Link => ({ prev, key, typename });
const PAGES = 100_000;
for (const [name, responsePath, newRequest] of variants) {
  let length = 0;
  const started = performance.now();
  for (let page = 0; page < PAGES; page++) {
    newRequest();
    const edges = add(add(undefined, 'projects', 'Query'), 'edges', 'ProjectConnection');
    for (let row = 0; row < 20; row++) length += `Project@${responsePath(add(add(add(edges, row), 'node', 'ProjectEdge'), 'owner', 'Project'))}`.length;
  }
  if (length !== PAGES * 20 * 'Project@projects.edges.node.owner'.length) throw new Error(`${name}: wrong keys`);
  console.log(`${name.padEnd(32)} ${(((performance.now() - started) * 1000) / PAGES).toFixed(2)} µs per page of 20 rows`);
}
