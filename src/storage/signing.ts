import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed download URLs: `GET /files/<organization id>/<path>?expires=<unix
 * seconds>&user=<user id>&signature=<hex>`, the signature an HMAC-SHA256 with
 * the gateway's secret over the organization, the path, the expiry and the
 * user who asked for the URL (whose bandwidth the download is).
 *
 * SECURITY: whoever holds a URL may download that one file until it expires,
 * and nothing else: changing any part (another path, another organization, a
 * later expiry) breaks the signature, compared in constant time. The
 * organization's id is in the URL so that the route can scope its lookup to
 * that organization (RLS) before the file is read.
 */

export const FILES_ROUTE = '/files/';

export interface SignedFile {
  organizationId: string;
  path: string;
  userId: string;
  /** Unix seconds. */
  expires: number;
}

function mac(secret: string, file: SignedFile): Buffer {
  // NUL separates the parts: no part can contain it (src/storage/paths.ts, UUIDs, digits).
  return createHmac('sha256', secret).update([file.organizationId, file.path, file.userId, String(file.expires)].join('\0')).digest();
}

/** The signed URL's path and query (relative to the gateway's origin). */
export function signedPath(secret: string, file: SignedFile): string {
  const encodedPath = file.path.split('/').map(encodeURIComponent).join('/');
  const query = new URLSearchParams({ expires: String(file.expires), user: file.userId, signature: mac(secret, file).toString('hex') });
  return `${FILES_ROUTE}${file.organizationId}/${encodedPath}?${query.toString()}`;
}

/** Whether `signature` (hex) is the one of `file`. */
export function signatureValid(secret: string, file: SignedFile, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  return timingSafeEqual(mac(secret, file), Buffer.from(signature, 'hex'));
}
