import { readFileSync } from 'node:fs';
import path from 'node:path';
import { disabledPatches } from './config';

/**
 * The places where tenantgate replaces a library's internals, each pinned to
 * the versions it was written for. At start-up each is checked against the
 * installed version: in range, the patch applies; out of range, the gateway
 * takes the public path instead and says so once (docs/patches.md says what
 * each would need from its library to go away).
 */
export interface Patch {
  /** Its key in PATCHES, as TENANTGATE_DISABLE_PATCHES names it. */
  key: string;
  /** What it replaces, for the log line. */
  name: string;
  package: string;
  /** The versions it was written for, `major.minor.x`. */
  range: `${number}.${number}.x`;
  /** The public path taken instead. */
  fallback: string;
}

export const PATCHES = {
  prismaPromise: {
    key: 'prismaPromise',
    name: "PrismaClient's _createPrismaPromise (src/db/prisma-promise.ts)",
    package: '@prisma/client',
    range: '7.10.x',
    fallback: "Prisma's own PrismaPromise is kept (more garbage collection under load, same results)",
  },
  boundAdapter: {
    key: 'boundAdapter',
    name: "@prisma/adapter-pg's protected `client` and the engine's COMMIT/ROLLBACK text (src/db/request-transaction.ts)",
    package: '@prisma/adapter-pg',
    range: '7.10.x',
    fallback: "a query's reads run as scoped transactions of their own instead of in the access check's transaction (more round trips, same results)",
  },
  relayGlobalId: {
    key: 'relayGlobalId',
    name: "@pothos/plugin-relay's RootFieldBuilder.prototype.globalID (src/builder.ts)",
    package: '@pothos/plugin-relay',
    range: '4.8.x',
    fallback: "the plugin's own (asynchronous) globalID resolver is kept (same IDs, more allocation per node)",
  },
} as const satisfies Record<string, Patch>;

/** The installed version of `pkg`, read from its package.json. */
export function installedVersion(pkg: string): string | null {
  const dir = packageDirectory(pkg);
  return dir ? versionIn(dir) : null;
}

function versionIn(dir: string): string | null {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
}

/** `7.10.3` is in `7.10.x`; a pre-release (`7.10.0-dev.1`) is not. */
export function inRange(version: string, range: Patch['range']): boolean {
  return new RegExp(`^${range.slice(0, -1).replace(/\./g, '\\.')}\\d+$`).test(version);
}

const warned = new Set<string>();

export interface PatchCheckOptions {
  /** @default the installed version */
  version?: string | null;
  /** @default console.warn */
  warn?: (message: string) => void;
  /** @default TENANTGATE_DISABLE_PATCHES */
  disabled?: ReadonlySet<string>;
}

/** Whether `patch` applies to the installed version; when it does not, says so once (per patch and process) and the caller takes the public path. */
export function patchApplies(patch: Patch, { version = installedVersion(patch.package), warn = console.warn, disabled = disabledPatches() }: PatchCheckOptions = {}): boolean {
  if (disabled.has(patch.key)) {
    if (!warned.has(patch.name)) {
      warned.add(patch.name);
      warn(`tenantgate: ${patch.name} is off (TENANTGATE_DISABLE_PATCHES): ${patch.fallback}.`);
    }
    return false;
  }
  if (version !== null && inRange(version, patch.range)) return true;
  if (!warned.has(patch.name)) {
    warned.add(patch.name);
    warn(`tenantgate: ${patch.name} was written for ${patch.package} ${patch.range}, and ${version ?? 'no version'} is installed: ${patch.fallback}.`);
  }
  return false;
}

/**
 * A patch of a library's files, applied by npm's `postinstall` (patch-package,
 * `patches/`), not at run time: TENANTGATE_DISABLE_PATCHES cannot leave it out.
 * The gateway checks at start-up that the installed file carries it.
 */
export interface InstalledPatch extends Patch {
  /** The patched file, from the package's directory. */
  file: string;
  /** Text only the patched file contains. */
  marker: string;
}

export const INSTALLED_PATCHES = {
  selectionMapperResponsePath: {
    key: 'selectionMapperResponsePath',
    name: "@pothos/selection-mapper's responsePath without its process-wide WeakMap (patches/@pothos+selection-mapper+0.1.0.patch)",
    package: '@pothos/selection-mapper',
    range: '0.1.x',
    file: 'lib/loader-map.js',
    marker: 'tenantgate (patches/)',
    fallback: "the library's memoised responsePath runs (about 40 µs more CPU per page of 20 rows with a relation, same results)",
  },
  prismaLazyCursors: {
    key: 'prismaLazyCursors',
    name: "@pothos/plugin-prisma's connection cursors encoded when read (patches/@pothos+plugin-prisma+4.17.0.patch)",
    package: '@pothos/plugin-prisma',
    range: '4.17.x',
    file: 'lib/util/cursors.js',
    marker: 'tenantgate (patches/)',
    fallback: 'every edge of every connection page has its cursor encoded whether it is selected or not (about 4% more CPU for a page of 20, same results)',
  },
} as const satisfies Record<string, InstalledPatch>;

/** The directory of an installed package (found from its entry point: some packages export no package.json). */
function packageDirectory(pkg: string): string | null {
  let dir = path.dirname(require.resolve(pkg));
  while (dir !== path.dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === pkg) return dir;
    } catch {
      // No package.json at this level: go up.
    }
    dir = path.dirname(dir);
  }
  return null;
}

/** Whether `patch` is in the installed files; when it is not, says so once (per patch and process), with what to do. */
export function installedPatchApplied(patch: InstalledPatch, { version, warn = console.warn, text }: { version?: string | null; warn?: (message: string) => void; text?: string } = {}): boolean {
  const dir = packageDirectory(patch.package);
  const installed = version !== undefined ? version : dir ? versionIn(dir) : null;
  const inPinnedRange = installed !== null && inRange(installed, patch.range);
  const applied = inPinnedRange && (text ?? (dir ? readFileSync(path.join(dir, patch.file), 'utf8') : '')).includes(patch.marker);
  if (!applied && !warned.has(patch.name)) {
    warned.add(patch.name);
    const why = inPinnedRange ? `is not applied to ${patch.package} ${installed} (run \`npm ci\`: its postinstall applies patches/)` : `was written for ${patch.package} ${patch.range}, and ${installed ?? 'no version'} is installed`;
    warn(`tenantgate: ${patch.name} ${why}: ${patch.fallback}.`);
  }
  return applied;
}
