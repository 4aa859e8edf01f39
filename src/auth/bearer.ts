import { unauthenticated } from '../errors';

/** The token of an `Authorization: Bearer <token>` header; null without the header, UNAUTHENTICATED when it is malformed. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  return match[1];
}
