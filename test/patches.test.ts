import path from 'node:path';
import { disabledPatches } from '../src/config';
import { INSTALLED_PATCHES, installedPatchApplied, installedVersion, inRange, PATCHES, patchApplies } from '../src/patches';
import { type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';
import { ProjectPageWithOwners } from './operations';

/**
 * Every patch of a library's internals is pinned (src/patches.ts): it applies
 * to the versions it was written for, and outside them the gateway takes the
 * public path and says so once.
 */

it.each(Object.entries(PATCHES))('%s applies to the installed version (an upgrade fails here first: re-check the patch, then its range)', (_, patch) => {
  const warn = jest.fn();
  expect(installedVersion(patch.package)).toMatch(/^\d+\.\d+\.\d+/);
  expect(patchApplies(patch, { warn })).toBe(true);
  expect(warn).not.toHaveBeenCalled();
});

it.each(Object.entries(INSTALLED_PATCHES))('%s is in the installed files (npm ci applies patches/)', (_, patch) => {
  const warn = jest.fn();
  expect(installedPatchApplied(patch, { warn })).toBe(true);
  expect(warn).not.toHaveBeenCalled();
});

it('says once, with what to do, when an installed patch is missing from its files or its version is out of range', () => {
  const warn = jest.fn();
  const patch = { ...INSTALLED_PATCHES.selectionMapperResponsePath, name: 'responsePath (test)' };
  expect(installedPatchApplied(patch, { warn, text: 'const pathKeys = new WeakMap();' })).toBe(false);
  expect(installedPatchApplied(patch, { warn, text: 'const pathKeys = new WeakMap();' })).toBe(false);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0][0]).toContain('npm ci');
  const other = { ...patch, name: 'responsePath (test, 0.2.0)' };
  expect(installedPatchApplied(other, { warn, version: '0.2.0' })).toBe(false);
  expect(warn.mock.calls[1][0]).toContain('0.2.0');
});

it('the patched responsePath keys a field by its response path without list indices, as the library did', () => {
  // test/statements.test.ts checks what depends on it: a page's owners come from the page's own statement.
  const file = path.join(path.dirname(require.resolve('@pothos/selection-mapper')), 'loader-map.js');
  const { responsePath } = jest.requireActual<{ responsePath(path: unknown): string }>(file);
  const link = (prev: unknown, key: string | number) => ({ prev, key, typename: undefined });
  expect(responsePath(link(link(link(link(undefined, 'projects'), 'edges'), 3), 'node'))).toBe('projects.edges.node');
  expect(responsePath(link(undefined, 'viewer'))).toBe('viewer');
  expect(responsePath(undefined)).toBe('');
});

it("the patched connection encodes a cursor only when it is read, and the page's start and end cursors are its first and last edges'", () => {
  // test/projects.test.ts pages through connections by these cursors; here, when they are encoded.
  const file = path.join(path.dirname(require.resolve('@pothos/plugin-prisma')), 'util', 'cursors.js');
  type Page = { edges: ({ cursor: string; node: { id: string } } | null)[]; pageInfo: { startCursor: string | null; endCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean } };
  const { wrapConnectionResult } = jest.requireActual<{ wrapConnectionResult(parent: unknown, rows: unknown[], args: object, take: number, cursor: (row: { id: string }) => string): Page }>(file);
  const format = jest.fn((row: { id: string }) => `cursor:${row.id}`);
  const rows = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
  // take 4 = first: 3 and one more row to learn hasNextPage.
  const page = wrapConnectionResult(null, rows, { first: 3 }, 4, format);
  expect(format).not.toHaveBeenCalled();
  expect(page.edges.map((edge) => edge!.node.id)).toEqual(['a', 'b', 'c']);
  expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  expect(page.edges[1]!.cursor).toBe('cursor:b');
  expect(format).toHaveBeenCalledTimes(1);
  expect([page.pageInfo.startCursor, page.pageInfo.endCursor]).toEqual(['cursor:a', 'cursor:c']);
  const empty = wrapConnectionResult(null, [], { first: 3 }, 4, format);
  expect([empty.pageInfo.startCursor, empty.pageInfo.endCursor]).toEqual([null, null]);
});

it('compares major.minor.x ranges', () => {
  expect(inRange('7.10.0', '7.10.x')).toBe(true);
  expect(inRange('7.10.12', '7.10.x')).toBe(true);
  expect(inRange('7.11.0', '7.10.x')).toBe(false);
  expect(inRange('7.1.0', '7.10.x')).toBe(false);
  expect(inRange('7.10.0-dev.3', '7.10.x')).toBe(false);
});

it('refuses a version out of range and says so once, with the fallback', () => {
  const warn = jest.fn();
  const patch = { ...PATCHES.boundAdapter, name: `${PATCHES.boundAdapter.name} (test)` };
  expect(patchApplies(patch, { version: '8.0.0', warn })).toBe(false);
  expect(patchApplies(patch, { version: '8.0.0', warn })).toBe(false);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0][0]).toContain('8.0.0');
  expect(warn.mock.calls[0][0]).toContain(PATCHES.boundAdapter.fallback);
});

it('leaves out a patch named by TENANTGATE_DISABLE_PATCHES, in range or not, and says so once', () => {
  const warn = jest.fn();
  const patch = { ...PATCHES.relayGlobalId, name: `${PATCHES.relayGlobalId.name} (disabled test)` };
  const disabled = disabledPatches({ TENANTGATE_DISABLE_PATCHES: 'prismaPromise, relayGlobalId' });
  expect(patchApplies(patch, { warn, disabled })).toBe(false);
  expect(patchApplies(patch, { warn, disabled })).toBe(false);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0][0]).toContain('TENANTGATE_DISABLE_PATCHES');
  expect(patchApplies({ ...PATCHES.boundAdapter }, { warn, disabled })).toBe(true);
});

describe('the fallback of the bound adapter: held reads off', () => {
  let h: Harness;
  let acme: TestOrganization;
  let globex: TestOrganization;
  const statements: string[] = [];

  twoOrganizations({ heldReads: false, poolSize: 3, onStatement: (sql) => statements.push(sql) }, (f) => ({ h, acme, globex } = f));
  beforeAll(async () => {
    await h.system.prisma.project.createMany({
      data: [
        { organizationId: acme.id, ownerId: acme.owner.id, name: 'acme-0' },
        { organizationId: globex.id, ownerId: globex.owner.id, name: 'globex-0' },
      ],
    });
  });

  it('answers queries the same, each read in a scoped transaction of its own, both sides', async () => {
    expect(h.db.heldReads).toBe(false);
    statements.length = 0;
    const mine = await h.execute(ProjectPageWithOwners, { token: acme.member.token, variables: { first: 10 } });
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.projects.edges.map((e) => e.node.name)).toEqual(['acme-0']);
    // The access check commits in its own message; the reads open scoped transactions (SET LOCAL).
    expect(statements[0]).toMatch(/^BEGIN READ ONLY; SET LOCAL .*request_access.*; COMMIT$/s);
    expect(statements.some((sql) => /^SET LOCAL app\.current_org_id/.test(sql))).toBe(true);
    const theirs = await h.execute(ProjectPageWithOwners, { token: globex.member.token, variables: { first: 10 } });
    expect(theirs.data!.projects.edges.map((e) => e.node.name)).toEqual(['globex-0']);
    expect(h.db.pool.idleCount).toBe(h.db.pool.totalCount);
  });
});
