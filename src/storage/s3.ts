import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { StorageBackend } from './backend';

export interface S3StorageOptions {
  /** The bucket. */
  bucket: string;
  /** A key prefix inside the bucket (no leading or trailing slash), or empty. */
  prefix: string;
  /** The client's settings: region, endpoint (an S3-compatible store), path-style addressing, credentials. */
  client: S3ClientConfig;
}

/** `s3://bucket/prefix` → its bucket and prefix; null for another scheme. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | null {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return null;
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/**
 * Any S3-compatible object store through @aws-sdk/client-s3. Uploads go through
 * @aws-sdk/lib-storage's Upload: a body of unknown length in parts of 5 MB, at
 * most two in flight, so a large upload holds about 10 MB, not the file.
 */
export function s3Storage({ bucket, prefix, client: config }: S3StorageOptions): StorageBackend & { client: S3Client } {
  const client = new S3Client(config);
  const keyOf = (key: string) => (prefix ? `${prefix}/${key}` : key);

  return {
    kind: 's3',
    client,
    async put(key, body, { contentType }) {
      await new Upload({ client, params: { Bucket: bucket, Key: keyOf(key), Body: body, ContentType: contentType }, queueSize: 2, partSize: 5 * 1024 * 1024, leavePartsOnError: false }).done();
    },
    async get(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return object.Body as Readable;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
        throw error;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
    },
    async deletePrefix(folder) {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyOf(folder), ContinuationToken: token }));
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
        if (keys.length) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}
