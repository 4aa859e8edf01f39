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
}

export interface AccessCacheOptions {
  /** Entries kept (members with recent requests); the least recently used go first. */
  max: number;
  /**
   * How long an entry is used at most, ms: the API_CALLS usage that other
   * gateway processes write is seen within this time (this process's own calls
   * are added exactly).
   */
  maxAgeMs: number;
}

/** A bounded cache of access checks, by organization and user. */
export class AccessCache {
  readonly #entries: LRUCache<string, CachedAccess>;

  constructor({ max, maxAgeMs }: AccessCacheOptions) {
    this.#entries = new LRUCache({ max, ttl: maxAgeMs, ttlAutopurge: false, updateAgeOnGet: false });
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
