import type { Readable } from 'node:stream';

/**
 * A file part of a GraphQL multipart request, as the `Upload` scalar hands it
 * to a resolver: its bytes are still arriving (src/plugins/use-streaming-upload.ts).
 * Read `stream` once, or `discard()` it.
 */
export class FileUpload {
  constructor(
    readonly filename: string,
    readonly contentType: string,
    readonly stream: Readable,
    /** Stops reading the request: the rest of the body is never read. */
    readonly discard: () => void,
  ) {}
}
