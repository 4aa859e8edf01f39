import { Readable, Transform } from 'node:stream';
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient } from '../generated/prisma/client';
import { createTenantClient } from '../db/tenant';
import type { FileStore } from '../storage/file-store';
import { objectKey, pathProblem } from '../storage/paths';
import { FILES_ROUTE, signatureValid } from '../storage/signing';
import type { UsageRecorder } from '../usage/recorder';

/**
 * `GET /files/<organization id>/<path>?expires=…&user=…&signature=…`: the
 * download behind a signed URL (src/storage/signing.ts), which `File.download`
 * hands out.
 *
 * SECURITY: the URL is the only credential: the signature must match the
 * organization, path, user and expiry exactly, and the expiry must be ahead.
 * The path is decoded once and checked as an uploaded path is, so an encoded
 * `..` or slash is refused, not followed. The file's row is then read on a
 * tenant client scoped to the signed organization, so RLS has the last word:
 * no row (deleted, never there), no bytes. Every refusal is a 404 or 403 that
 * says nothing about the file. The bytes sent count as the organization's
 * bandwidth (usage_daily), for the user who asked for the URL.
 */
export interface FileDownloadOptions {
  files?: FileStore;
  prisma: PrismaClient;
  usage?: Pick<UsageRecorder, 'record'> | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type ResponseConstructor = typeof Response;

function text(Response: ResponseConstructor, status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
}

/** The decoded path of a URL's remainder, or null when a segment does not decode or the result is not a file path. */
function decodePath(encoded: string): string | null {
  try {
    const path = encoded.split('/').map(decodeURIComponent).join('/');
    // A segment that decoded to one with a "/" is an encoded slash: the path would now have more segments than the URL.
    if (path.split('/').length !== encoded.split('/').length) return null;
    return pathProblem(path) === null ? path : null;
  } catch {
    return null;
  }
}

export function useFileDownloads({ files, prisma, usage }: FileDownloadOptions): Plugin {
  if (!files) return {};
  const store = files;

  async function handle(R: ResponseConstructor, request: Request, url: URL): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(R, 405, 'Use GET');
    const rest = url.pathname.slice(FILES_ROUTE.length);
    const slash = rest.indexOf('/');
    const organizationId = slash > 0 ? rest.slice(0, slash) : '';
    const path = slash > 0 ? decodePath(rest.slice(slash + 1)) : null;
    const expires = Number(url.searchParams.get('expires'));
    const userId = url.searchParams.get('user') ?? '';
    const signature = url.searchParams.get('signature') ?? '';
    if (!UUID.test(organizationId) || path === null || !UUID.test(userId) || !Number.isSafeInteger(expires)) return text(R, 404, 'Not found');
    if (!signatureValid(store.signingSecret, { organizationId, path, userId, expires }, signature)) return text(R, 403, 'Invalid signature');
    if (expires * 1000 <= store.now()) return text(R, 403, 'This URL has expired');

    const db = createTenantClient(prisma, { organizationId, userId: null });
    const file = await db.storedFile.findFirst({ where: { path, status: 'READY' }, select: { size: true, contentType: true, checksum: true } });
    if (!file) return text(R, 404, 'Not found');
    const headers = {
      'content-type': file.contentType,
      'content-length': String(file.size),
      etag: `"${file.checksum}"`,
      'cache-control': 'private, no-store',
      'content-disposition': 'attachment',
      'x-content-type-options': 'nosniff',
    };
    if (request.method === 'HEAD') return new R(null, { status: 200, headers });
    const body = await store.backend.get(objectKey(organizationId, path));
    if (!body) return text(R, 404, 'Not found');

    let sent = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          sent += chunk.length;
          callback(null, chunk);
        },
        flush(callback) {
          usage?.record({ organizationId, userId, apiCalls: 0, bandwidthBytes: sent, computeMs: 0 });
          callback();
        },
      }),
    );
    body.once('error', (error) => counted.destroy(error));
    return new R(Readable.toWeb(counted) as ReadableStream, { status: 200, headers });
  }

  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(FILES_ROUTE)) return;
      const response = await handle(fetchAPI.Response, request, url).catch((error: unknown) => {
        // SECURITY: like masked GraphQL errors, nothing of the failure reaches the caller.
        console.error('file download:', error);
        return text(fetchAPI.Response, 500, 'Unexpected error.');
      });
      endResponse(response);
    },
  };
}
