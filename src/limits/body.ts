/**
 * Reading a request body with a limit (issue 13): at most `limit` bytes are
 * ever held. A Content-Length over it is refused before reading; a body that
 * streams past it (chunked) is cancelled at the chunk that crosses it. What
 * answers the refusal should add `Connection: close` (`CLOSE_CONNECTION`), so
 * that Node stops receiving the rest instead of reading it to discard it.
 */
export type LimitedBody = { ok: true; bytes: Buffer } | { ok: false; reason: 'too-large' | 'invalid-length' };

export const CLOSE_CONNECTION = { connection: 'close' } as const;

export async function readBodyLimited(request: Request, limit: number): Promise<LimitedBody> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d+$/.test(declared)) return { ok: false, reason: 'invalid-length' };
    if (Number(declared) > limit) return { ok: false, reason: 'too-large' };
  }
  if (!request.body) return { ok: true, bytes: Buffer.alloc(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not awaited: cancelling a node stream can wait on the peer.
      reader.cancel().catch(() => undefined);
      return { ok: false, reason: 'too-large' };
    }
    chunks.push(value);
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}
