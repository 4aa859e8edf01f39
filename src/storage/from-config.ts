import { randomBytes } from 'node:crypto';
import type { StorageConfig } from '../config';
import type { StorageBackend } from './backend';
import type { FileStore } from './file-store';
import { localStorage } from './local';
import { parseS3Url, s3Storage } from './s3';

/** The backend STORAGE_URL names: `s3://bucket/prefix`, else a local directory. */
export function storageBackend(config: StorageConfig): StorageBackend {
  if (config.url.startsWith('s3://')) {
    const target = parseS3Url(config.url);
    if (!target) throw new Error(`STORAGE_URL must be s3://bucket/prefix, got ${JSON.stringify(config.url)}`);
    const { region, endpoint, accessKeyId, secretAccessKey, sessionToken, forcePathStyle } = config.s3;
    return s3Storage({
      ...target,
      client: {
        region,
        endpoint,
        forcePathStyle,
        // Without keys, the SDK's own chain (instance roles, profiles) is used.
        ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, sessionToken } } : {}),
      },
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(config.url)) throw new Error(`STORAGE_URL: unknown scheme in ${JSON.stringify(config.url)} (s3:// or a directory)`);
  return localStorage(config.url);
}

export function fileStore(config: StorageConfig, now: () => number = Date.now): FileStore {
  return {
    backend: storageBackend(config),
    signingSecret: config.signingSecret ?? randomBytes(32).toString('hex'),
    urlTtlSeconds: config.urlTtlSeconds,
    now,
  };
}
