import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { StorageBackend } from '../../src/storage/backend';
import type { FileStore } from '../../src/storage/file-store';
import { localStorage } from '../../src/storage/local';
import { s3Storage } from '../../src/storage/s3';

/**
 * The two storage backends the file tests run on: a temporary directory, and a
 * real S3-compatible server (s3rver) on 127.0.0.1, port 0, through the same
 * @aws-sdk/client-s3 code the gateway uses with STORAGE_URL=s3://….
 */
export type BackendKind = 'local' | 's3';

export interface TestStorage {
  backend: StorageBackend;
  close(): Promise<void>;
}

export async function startStorage(kind: BackendKind): Promise<TestStorage> {
  const directory = await mkdtemp(join(tmpdir(), `tenantgate-${kind}-`));
  if (kind === 'local') {
    return { backend: localStorage(join(directory, 'storage')), close: () => rm(directory, { recursive: true, force: true }) };
  }
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = (await server.run()) as AddressInfo;
  const backend = s3Storage({
    bucket: 'tenantgate-test',
    prefix: 'files-test',
    client: {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${address.port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      // s3rver predates the flexible checksums the SDK now sends by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  });
  await backend.client.send(new CreateBucketCommand({ Bucket: 'tenantgate-test' }));
  return {
    backend,
    async close() {
      backend.client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A file store on `backend` with a clock the test moves. */
export function testFileStore(backend: StorageBackend, clock: { now: number }): FileStore {
  return { backend, signingSecret: 'test-storage-signing-secret', urlTtlSeconds: 300, now: () => clock.now };
}

const encoder = new TextEncoder();

/**
 * A GraphQL multipart request body whose file is produced by `chunks` as it is
 * read: nothing of the file is in memory beforehand. Content-Length is given
 * when `fileBytes` is known.
 */
export function multipartRequest(options: {
  query: string;
  variables: Record<string, unknown>;
  /** Where the file goes in the variables, e.g. `input.file`. @default file */
  fileVariable?: string;
  filename?: string;
  contentType?: string;
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  fileBytes?: number;
}): { body: ReadableStream<Uint8Array>; headers: Record<string, string>; pulled: () => number } {
  const boundary = `----tenantgate${Math.random().toString(16).slice(2)}`;
  const variable = options.fileVariable ?? 'file';
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: options.query, variables: options.variables })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify({ 0: [`variables.${variable}`] })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${options.filename ?? 'file.bin'}"\r\nContent-Type: ${options.contentType ?? 'application/octet-stream'}\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  let pulled = 0;
  async function* parts() {
    yield head;
    for await (const chunk of options.chunks) {
      pulled += chunk.byteLength;
      yield chunk;
    }
    yield tail;
  }
  const iterator = parts();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (options.fileBytes !== undefined) headers['content-length'] = String(head.byteLength + options.fileBytes + tail.byteLength);
  return { body, headers, pulled: () => pulled };
}

/** `total` bytes in chunks of `chunk`, each a deterministic pattern (generated lazily). */
export function* generatedBytes(total: number, chunk = 64 * 1024): Generator<Uint8Array> {
  const block = new Uint8Array(chunk);
  for (let i = 0; i < chunk; i++) block[i] = (i * 31 + 7) & 0xff;
  for (let sent = 0; sent < total; sent += chunk) yield block.subarray(0, Math.min(chunk, total - sent));
}
