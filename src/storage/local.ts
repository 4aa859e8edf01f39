import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageBackend } from './backend';

/**
 * Files under a directory of the local file system (`.data/storage` by default):
 * `npm start` needs nothing else. A write goes to a temporary name beside its
 * target and is renamed over it when complete, so a reader never sees half a
 * file and a failed upload leaves nothing at the key.
 */
export function localStorage(root: string): StorageBackend {
  const base = resolve(root);

  // SECURITY: keys are checked before they get here (src/storage/paths.ts); this
  // is the second lock: nothing outside `base`, whatever the key.
  const fileOf = (key: string): string => {
    const file = resolve(base, key);
    if (!file.startsWith(base + sep)) throw new Error(`Storage key outside the storage root: ${JSON.stringify(key)}`);
    return file;
  };

  return {
    kind: 'local',
    async put(key, body) {
      const file = fileOf(key);
      await mkdir(dirname(file), { recursive: true });
      const partial = join(dirname(file), `.upload-${randomUUID()}`);
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async get(key) {
      const stream = createReadStream(fileOf(key));
      // Opening is asynchronous: wait for it, so that a missing file is null, not a stream error.
      return new Promise<Readable | null>((resolvePromise, reject) => {
        stream.once('open', () => resolvePromise(stream));
        stream.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'EISDIR' ? resolvePromise(null) : reject(error)));
      });
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
    async deletePrefix(prefix) {
      await rm(fileOf(prefix), { recursive: true, force: true });
    },
  };
}
