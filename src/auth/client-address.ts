import { addressAllowed } from '../settings';

/**
 * The client's IP address, for organizations that restrict access by IP.
 *
 * SECURITY: the socket's peer address, unless that peer is a proxy the operator
 * trusts (TRUSTED_PROXIES, CIDRs). Only then is X-Forwarded-For read, from the
 * right, skipping the trusted proxies: the first untrusted hop is the client.
 * Entries left of it could have been written by the client itself.
 */
export function clientAddress(request: Request, socketAddress: string | undefined, trustedProxies: readonly string[]): string | null {
  if (!socketAddress) return null;
  if (trustedProxies.length === 0 || !addressAllowed(socketAddress, trustedProxies)) return socketAddress;
  const hops = (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    if (!addressAllowed(hops[i], trustedProxies)) return hops[i];
  }
  return hops[0] ?? socketAddress;
}
