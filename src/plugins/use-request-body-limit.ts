import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { CLOSE_CONNECTION } from '../limits/body';

/**
 * Refuses request bodies over `limit` bytes: 413 REQUEST_ENTITY_TOO_LARGE, or 400
 * BAD_REQUEST for a Content-Length that is not one non-negative integer. It
 * replaces Yoga's own limit (`maxRequestBodySize: false` in src/yoga.ts), with
 * the same limit, the same errors and the same checks.
 *
 * PERF: Yoga pipes every request body through a TransformStream that counts
 * its bytes, even when a Content-Length already bounds it: a stream pipeline, an
 * AbortController and a DOMException per request, several percent of the
 * gateway's CPU per request in the benchmark's profile. Node's HTTP parser
 * frames a body by its Content-Length (it reads exactly that many bytes and
 * refuses a request that also has Transfer-Encoding), so a body that declares
 * its length is checked by its header alone. A body without one (chunked) is
 * still counted as it streams in. Must come after every request parser (Yoga
 * places user plugins there) so it wraps the one that was selected.
 */
export function useRequestBodyLimit(bodyLimit: number, options: { multipartLimit?: number } = {}): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      // A multipart request carries a file (src/plugins/use-streaming-upload.ts), which streams: its own, larger limit.
      const multipart = /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');
      const limit = multipart && options.multipartLimit !== undefined ? options.multipartLimit : bodyLimit;
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!/^\d+$/.test(contentLength)) throw invalidContentLength();
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      // PERF: the counting stream below reads ahead of its consumer, a whole file's worth; the streaming
      // upload parser counts multipart bodies itself, as they are read.
      if (multipart && options.multipartLimit !== undefined) return;
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => parse(countingBody(req, limit, fetchAPI)));
    },
  };
}

// `Connection: close`: Node then drops the rest of the body instead of reading it to keep the connection.
function tooLarge() {
  return createGraphQLError('Request body too large', { extensions: { http: { status: 413, headers: CLOSE_CONNECTION }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
}

function invalidContentLength() {
  return createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
}

/** The request with a body that fails once more than `limit` bytes have streamed in. */
function countingBody(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  // A native ReadableStream pipes only into a native TransformStream (graphql-yoga#4583).
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half' } as RequestInit);
}
