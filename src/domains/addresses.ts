import ipaddr from 'ipaddr.js';

/**
 * SECURITY: the addresses a server-side fetch (HTTP domain verification) may
 * connect to. Only public unicast: loopback, private (RFC 1918, ULA), link-local
 * (169.254.0.0/16, cloud metadata at 169.254.169.254 included), CGNAT,
 * multicast, reserved and unspecified are refused. An IPv4-mapped IPv6 address
 * is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  return parsed.range() === 'unicast';
}
