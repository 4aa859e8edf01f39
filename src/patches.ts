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

/** The installed version of `pkg`, read from its package.json (which some packages do not export: found from the entry point). */
export function installedVersion(pkg: string): string | null {
  let dir = path.dirname(require.resolve(pkg));
  while (dir !== path.dirname(dir)) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return json.version ?? null;
    } catch {
      // No package.json at this level: go up.
    }
    dir = path.dirname(dir);
  }
  return null;
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
