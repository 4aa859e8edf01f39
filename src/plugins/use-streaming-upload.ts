import Busboy from '@fastify/busboy';
import { Readable, Transform } from 'node:stream';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { FileUpload } from '../storage/upload';

/**
 * The GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec),
 * streamed.
 *
 * PERF/SECURITY: Yoga's own multipart parser reads the whole body with
 * `request.formData()`, which holds every file in memory before the operation
 * starts: a 200 MB upload would be 200 MB of the gateway's heap. This parser
 * reads the `operations` and `map` fields, hands the operation to Yoga as soon
 * as the file part begins, and gives the resolver the file as a stream
 * (FileUpload): the bytes go from the socket to the storage backend with only
 * stream buffers in between, and a resolver that refuses (quota, size, path)
 * does so before the file is read.
 *
 * Bounded: one operation, one file, `operations` and `map` at most 64 KB each,
 * and the file at most `maxFileBytes` (the largest any plan allows; a plan's own
 * limit is checked by the resolver). Malformed requests are 400 BAD_REQUEST.
 * Placed before useRequestBodyLimit, which then wraps this parser.
 */
export interface StreamingUploadOptions {
  /** The largest file of any plan, in bytes: past it the stream fails with FILE_TOO_LARGE. */
  maxFileBytes: number;
}

const MAX_FIELD_BYTES = 64 * 1024;

/** Ends the reading of each request's body once its response is on its way. */
const discards = new WeakMap<Request, () => void>();

export function useStreamingUpload({ maxFileBytes }: StreamingUploadOptions): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST' || !/^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '')) return;
      setRequestParser((req) => parseMultipart(req, request, maxFileBytes));
    },
    onResponse({ request }) {
      discards.get(request)?.();
    },
  };
}

function badRequest(message: string) {
  return createGraphQLError(`Invalid multipart request: ${message}`, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

export function fileTooLarge(limit: number) {
  return createGraphQLError(`The file is larger than ${limit} bytes`, { extensions: { code: 'FILE_TOO_LARGE', limit, http: { status: 413 } } });
}

function parseJson(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`"${name}" is not JSON`);
  }
}

/** Sets the file at a map entry's place, `variables.<name>` or deeper (`variables.input.file`): nowhere else. */
function placeFile(operation: GraphQLParams, keyPath: unknown, upload: FileUpload): void {
  const keys = typeof keyPath === 'string' && keyPath.length <= 200 ? keyPath.split('.') : [];
  if (keys[0] !== 'variables' || keys.length < 2 || keys.length > 8 || !keys.slice(1).every((key) => /^[A-Za-z_][A-Za-z0-9_]*$|^\d{1,4}$/.test(key) && key !== '__proto__')) {
    throw badRequest('map entries must name a variable: "variables.<name>" or deeper');
  }
  let target = (operation.variables ??= {}) as Record<string, unknown>;
  for (const key of keys.slice(1, -1)) {
    const next = Object.hasOwn(target, key) ? target[key] : undefined;
    if (!next || typeof next !== 'object') target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  target[keys[keys.length - 1]] = upload;
}

function parseMultipart(parsed: Request, original: Request, maxFileBytes: number): Promise<GraphQLParams> {
  const contentType = parsed.headers.get('content-type')!;
  if (!parsed.body) return Promise.reject(badRequest('no body'));
  // Counted here, as busboy pulls it: a body without Content-Length is bounded too.
  const maxBodyBytes = maxFileBytes + 3 * MAX_FIELD_BYTES;
  let bodyBytes = 0;
  const input = Readable.from(parsed.body as unknown as AsyncIterable<Uint8Array>);
  const source = input.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bodyBytes += chunk.length;
        callback(bodyBytes > maxBodyBytes ? fileTooLarge(maxFileBytes) : null, chunk);
      },
    }),
  );
  input.once('error', (error) => source.destroy(error));
  let busboy: ReturnType<typeof Busboy>;
  try {
    busboy = Busboy({
      headers: { 'content-type': contentType },
      limits: { fieldNameSize: 100, fieldSize: MAX_FIELD_BYTES, fields: 2, files: 1, parts: 3, fileSize: maxFileBytes, headerPairs: 20 },
    });
  } catch (error) {
    return Promise.reject(badRequest((error as Error).message));
  }
  const discard = () => {
    source.unpipe(busboy);
    input.destroy();
    source.destroy();
    busboy.destroy();
  };
  discards.set(original, discard);

  return new Promise<GraphQLParams>((resolve, reject) => {
    let operation: GraphQLParams | undefined;
    let map: Record<string, unknown> | undefined;
    let settled = false;
    let file: Readable | undefined;
    const fail = (error: unknown) => {
      const failure = (error as { extensions?: unknown }).extensions ? error : badRequest((error as Error).message ?? 'unreadable body');
      file?.destroy(failure as Error);
      if (!settled) {
        settled = true;
        reject(failure);
      }
      discard();
    };

    busboy.on('field', (name, value, nameTruncated, valueTruncated) => {
      if (nameTruncated || valueTruncated) return fail(badRequest(`the field "${name.slice(0, 100)}" is longer than ${MAX_FIELD_BYTES} bytes`));
      if (name === 'operations') {
        const parsedOperation = parseJson(name, value);
        if (!parsedOperation || typeof parsedOperation !== 'object' || Array.isArray(parsedOperation)) return fail(badRequest('"operations" must be one operation'));
        operation = parsedOperation as GraphQLParams;
      } else if (name === 'map') {
        const parsedMap = parseJson(name, value);
        if (!parsedMap || typeof parsedMap !== 'object' || Array.isArray(parsedMap)) return fail(badRequest('"map" must be an object'));
        map = parsedMap as Record<string, unknown>;
      } else {
        return fail(badRequest(`unexpected field "${name}"`));
      }
    });

    busboy.on('file', (name, stream, filename, _encoding, mimeType) => {
      file = stream;
      if (settled) return void stream.resume();
      if (!operation || !map) return fail(badRequest('"operations" and "map" must come before the file'));
      const paths = map[name];
      if (!Array.isArray(paths) || paths.length !== 1) return fail(badRequest(`"map" must give the file "${name}" one place`));
      // busboy ends a file that reaches its size limit as if it were complete; it must fail instead.
      stream.once('limit', () => stream.destroy(fileTooLarge(maxFileBytes)));
      try {
        placeFile(operation, paths[0], new FileUpload(filename ?? '', mimeType || 'application/octet-stream', stream, discard));
      } catch (error) {
        return fail(error);
      }
      settled = true;
      resolve(operation);
    });

    busboy.on('partsLimit', () => fail(badRequest('too many parts: operations, map and one file')));
    busboy.on('filesLimit', () => fail(badRequest('one file per request')));
    busboy.on('fieldsLimit', () => fail(badRequest('only "operations" and "map" fields')));
    busboy.on('error', fail);
    source.on('error', fail);
    busboy.on('finish', () => {
      if (settled) return;
      if (!operation) return fail(badRequest('no "operations" field'));
      if (map && Object.keys(map).length > 0) return fail(badRequest('"map" names a file that the request does not contain'));
      settled = true;
      resolve(operation);
    });
    source.pipe(busboy);
  });
}
