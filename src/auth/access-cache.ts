import { LRUCache } from 'lru-cache';
import type { Access } from './access';

/**
 * What the last full access check said about one member of one organization,
 * kept so that the next requests can skip app.request_access()
 * (docs/adr/0080-access-check-cached-by-version.md).
 *
 * SECURITY: an entry is used only while the organization's access version
 * (table access_versions, bumped by the database in the same transaction as any
 * change to the membership, departments, organization, subscription or quotas)
 * is the one read with it; every request reads the version in the message that
 * begins its transaction, so a change is seen by the very next request. Only
 * members' own requests are cached: a platform operator's (support session or
 * platform scope) always runs the full check.
 */
export interface CachedAccess {
  /** access_versions.version when the check ran (int8, as text). */
  version: string;
  access: Access;
  /** The API_CALLS usage the check saw: usage_daily's sum plus the process's unwritten counts. */
  apiCallsUsed: number | null;
  /** The recorder's countedApiCalls() then, and its month. */
  apiCallsCounted: number;
  month: string;
  /** When `apiCallsUsed` was read from usage_daily (ms, the gateway's clock): by the check, or by a refresh since. */
  usageReadAt: number;
}

export interface AccessCacheOptions {
  /** Entries kept (members with recent requests); the least recently used go first. */
  max: number;
  /**
   * How old an entry's API_CALLS usage may be, ms: the usage that other
   * gateway processes write is seen within this time (this process's own calls
   * are added exactly). An older entry still stands for the check; the next
   * request reads the usage again with the version, in the same message
   * (src/auth/access.ts). Nothing else in an entry ages: every other input
   * bumps the version.
   */
  maxAgeMs: number;
}

/** A bounded cache of access checks, by organization and user. */
export class AccessCache {
  readonly #entries: LRUCache<string, CachedAccess>;
  readonly maxAgeMs: number;

  constructor({ max, maxAgeMs }: AccessCacheOptions) {
    // PERF: no time to live. An entry that expired made its member's next request run the full check, and at
    // one connection those requests were 2-5% of all, each about 0.75 ms slower: the p99 (ADR 0101).
    this.#entries = new LRUCache({ max });
    this.maxAgeMs = maxAgeMs;
  }

  get(organizationId: string, userId: string): CachedAccess | undefined {
    return this.#entries.get(`${organizationId}:${userId}`);
  }

  set(organizationId: string, userId: string, entry: CachedAccess): void {
    this.#entries.set(`${organizationId}:${userId}`, entry);
  }

  delete(organizationId: string, userId: string): void {
    this.#entries.delete(`${organizationId}:${userId}`);
  }

  get size(): number {
    return this.#entries.size;
  }
}
