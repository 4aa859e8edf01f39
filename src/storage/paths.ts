/**
 * File paths as clients name them, and the object keys they are stored under.
 *
 * SECURITY: a path is a relative, slash-separated name whose every segment is a
 * plain name. Refused, so that no path can name anything outside its
 * organization's folder, in a file system or in a bucket, nor be read
 * differently on the way to it: `.` and `..` segments, empty segments (a leading
 * `/`, `//`, a trailing `/`), backslashes, `%` (an encoded slash or dot would
 * decode into one somewhere), NUL and every other control character, and names
 * longer than the limits below. The check is on the decoded string, and the
 * download route decodes its URL once and checks the result again.
 */

/** Bytes of a whole path (UTF-8). S3 keys stop at 1,024; the organization's prefix takes 64. */
export const MAX_PATH_BYTES = 900;
/** Bytes of one segment: the common file-system limit of a name. */
export const MAX_SEGMENT_BYTES = 255;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `path` is not a file path, or null when it is one. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'must not be empty';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return `must be at most ${MAX_PATH_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(path)) return 'must not contain control characters (NUL included)';
  if (path.includes('\\')) return 'must not contain backslashes';
  if (path.includes('%')) return 'must not contain "%": paths are not URL-encoded';
  if (path.startsWith('/')) return 'must be relative: no leading "/"';
  if (LONE_SURROGATE.test(path)) return 'must be valid Unicode';
  for (const segment of path.split('/')) {
    if (segment === '') return 'must not contain empty segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return `segments must be at most ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

/** Why `prefix` cannot start a file path, or null: a path, possibly ending with "/", or empty (everything). */
export function prefixProblem(prefix: string): string | null {
  if (prefix === '') return null;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return pathProblem(trimmed);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The folder of an organization's files in the backend. */
export function organizationPrefix(organizationId: string): string {
  if (!UUID.test(organizationId)) throw new Error(`Not an organization id: ${JSON.stringify(organizationId)}`);
  return `organizations/${organizationId}/`;
}

/** The object key of a file: organizations/<organization id>/files/<path>. The path must have passed pathProblem. */
export function objectKey(organizationId: string, path: string): string {
  const problem = pathProblem(path);
  if (problem) throw new Error(`objectKey: not a file path (${problem})`);
  return `${organizationPrefix(organizationId)}files/${path}`;
}
