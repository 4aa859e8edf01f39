import type { Readable } from 'node:stream';

/**
 * Where file contents live. Two implementations: the local file system
 * (src/storage/local.ts, the embedded default) and any S3-compatible store
 * (src/storage/s3.ts). Keys come from src/storage/paths.ts (objectKey) only,
 * already checked; a backend still refuses a key that would leave its root.
 *
 * Streams both ways: no method holds a whole file in memory.
 */
export interface StorageBackend {
  /** `local` or `s3`, for logs and the readiness of tests. */
  readonly kind: 'local' | 's3';
  /** Writes `body` to `key`, replacing what was there; resolves once it is stored. */
  put(key: string, body: Readable, options: { contentType: string }): Promise<void>;
  /** The content at `key`, or null when there is none. */
  get(key: string): Promise<Readable | null>;
  /** Removes `key`; nothing when it is absent. */
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `prefix` (an organization's folder). */
  deletePrefix(prefix: string): Promise<void>;
}
