import { createHash } from 'node:crypto';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { TenantClient } from '../db/tenant';
import type { Prisma } from '../generated/prisma/client';
import { alreadyExists, badUserInput, notFound, quotaExceeded } from '../errors';
import { formatLimit, lockQuota } from '../quotas/enforce';
import { readQuotas } from '../quotas/limits';
import { fileTooLarge } from '../plugins/use-streaming-upload';
import type { StorageBackend } from './backend';
import { objectKey } from './paths';
import { signedPath } from './signing';
import type { FileUpload } from './upload';

/** What the files API needs beside the tenant client: given to the gateway (src/yoga.ts). */
export interface FileStore {
  backend: StorageBackend;
  /** HMAC secret of download URLs (STORAGE_SIGNING_SECRET). */
  signingSecret: string;
  /** How long a download URL is valid. @default 300 */
  urlTtlSeconds: number;
  now: () => number;
}

declare module '../context' {
  interface Context {
    /** The file store of the gateway (src/storage/file-store.ts); undefined when it has none. */
    files?: FileStore;
  }
}

export type StoredFileRow = Prisma.StoredFileGetPayload<object>;

/**
 * Bytes of a multipart request around its file: boundaries, part headers and
 * the operation (at most 64 KB per field). A Content-Length bigger than the
 * plan's file limit plus this cannot carry an allowed file.
 */
const MULTIPART_OVERHEAD = 2 * 64 * 1024 + 4096;

/** The largest file of the organization's plan (plan_upload_limits); FREE without a subscription row. */
async function maxFileBytes(db: TenantClient): Promise<number> {
  const [row] = await db.$queryRaw<{ max: bigint }[]>`
    SELECT l.max_file_bytes AS max
      FROM plan_upload_limits l
      LEFT JOIN subscriptions s ON s.organization_id = app.current_org_id()
     WHERE l.plan = coalesce(s.plan, 'FREE')`;
  if (!row) throw new Error('plan_upload_limits has no row for the organization\'s plan');
  return Number(row.max);
}

/** Counts and hashes what passes, and fails once more than `cap` bytes have. */
class Meter extends Transform {
  bytes = 0;
  /** Why the meter stopped the stream, when it did. */
  failure: Error | null = null;
  private readonly hash = createHash('sha256');
  constructor(private readonly cap: number, private readonly overflow: () => Error) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.cap) return callback((this.failure = this.overflow()));
    this.hash.update(chunk);
    callback(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface UploadInput {
  path: string;
  file: FileUpload;
  /** The file's size as the client declares it: checked before the body is read, and then held to. */
  size?: number | null;
  /** The Content-Length of the whole request, when it has one: an upper bound of the file's size. */
  requestBytes?: number | null;
}

function storageExceeded(limit: number, used: number) {
  return quotaExceeded(`Storage limit reached (${formatLimit('STORAGE', limit)}). Upgrade to create more.`, { resource: 'STORAGE', limit, used });
}

/**
 * An upload, race-free against the STORAGE quota without holding its lock while
 * the bytes stream:
 *
 * 1. under the quota's lock (src/quotas/enforce.ts), a `files` row UPLOADING is
 *    inserted whose size is the bytes reserved: the declared size, else as much
 *    as the plan's file limit, the request's length and the room left allow. Its
 *    trigger adds them to storage_usage in the same transaction, so the next
 *    upload's check counts them. Committed at once: the lock is held for
 *    milliseconds, and concurrent uploads stream side by side.
 * 2. the bytes stream to the backend, metered: past the reservation the stream
 *    fails (QUOTA_EXCEEDED, FILE_TOO_LARGE, or a size that was not the declared one).
 * 3. the row becomes READY with the real size and checksum (the trigger gives the
 *    unused reservation back); on any failure the object and the row are removed.
 */
export async function uploadFile(db: TenantClient, store: FileStore, organizationId: string, userId: string, input: UploadInput): Promise<StoredFileRow> {
  const { path, file, size } = input;
  const maxBytes = await maxFileBytes(db);
  if (size != null && size > maxBytes) throw fileTooLarge(maxBytes);
  if (input.requestBytes != null && input.requestBytes > maxBytes + MULTIPART_OVERHEAD) throw fileTooLarge(maxBytes);

  const { reserved, limitedBy, quota } = await db.$transaction(async (tx) => {
    await lockQuota(tx, 'STORAGE');
    const [quota] = await readQuotas(tx, ['STORAGE']);
    const room = quota.remaining ?? Number.POSITIVE_INFINITY;
    const wanted = size ?? Math.min(maxBytes, input.requestBytes ?? maxBytes);
    if (size != null ? size > room : room <= 0) throw storageExceeded(quota.limit!, quota.used);
    const amount = Math.min(wanted, room);
    const existing = await tx.storedFile.findUnique({ where: { organizationId_path: { organizationId, path } }, select: { path: true } });
    if (existing) throw alreadyExists('A file exists at this path: delete it first', { path });
    await tx.storedFile.create({ data: { path, size: BigInt(amount), contentType: file.contentType, uploadedBy: userId } });
    const cause = size != null ? 'declared' : amount < wanted ? 'quota' : 'plan';
    return { reserved: amount, limitedBy: cause as 'declared' | 'quota' | 'plan', quota };
  });

  const key = objectKey(organizationId, path);
  const meter = new Meter(reserved, () => {
    if (limitedBy === 'declared') return badUserInput([{ field: 'input.size', message: `the file is larger than the declared ${size} bytes` }]);
    if (limitedBy === 'plan') return fileTooLarge(maxBytes);
    return storageExceeded(quota.limit!, quota.used);
  });
  try {
    // pipeline, not pipe: a failure of the request's stream (too large, aborted) reaches the backend's write.
    const body = pipeline(file.stream, meter, () => undefined);
    try {
      await store.backend.put(key, body, { contentType: file.contentType });
    } catch (error) {
      // A backend may wrap the stream's failure: the meter's own says why.
      throw meter.failure ?? error;
    }
    if (size != null && meter.bytes !== size) {
      throw badUserInput([{ field: 'input.size', message: `the file has ${meter.bytes} bytes, not the declared ${size}` }]);
    }
    const completed = await db.storedFile.updateMany({
      where: { path, status: 'UPLOADING' },
      data: { status: 'READY', size: BigInt(meter.bytes), checksum: meter.digest(), updatedAt: new Date(store.now()) },
    });
    // Deleted while it was uploading: nothing to show for it.
    if (completed.count !== 1) throw notFound('File');
    return (await db.storedFile.findUnique({ where: { organizationId_path: { organizationId, path } } }))!;
  } catch (error) {
    file.discard();
    await store.backend.delete(key).catch(() => undefined);
    await db.storedFile.deleteMany({ where: { path, status: 'UPLOADING' } });
    throw error;
  }
}

/** Removes a file: its row (giving its bytes back to the quota), then its object. */
export async function deleteFile(db: TenantClient, store: FileStore, organizationId: string, path: string): Promise<void> {
  const deleted = await db.storedFile.deleteMany({ where: { path, status: 'READY' } });
  if (deleted.count === 0) throw notFound('File');
  await store.backend.delete(objectKey(organizationId, path));
}

/** A download URL for the file, valid `urlTtlSeconds`, relative to the gateway's origin. */
export function downloadUrl(store: FileStore, file: { organizationId: string; path: string }, userId: string): { url: string; expiresAt: Date } {
  const expires = Math.floor(store.now() / 1000) + store.urlTtlSeconds;
  return { url: signedPath(store.signingSecret, { organizationId: file.organizationId, path: file.path, userId, expires }), expiresAt: new Date(expires * 1000) };
}
