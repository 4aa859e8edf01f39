import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './addresses';

/**
 * The network side of domain verification: DNS TXT lookups and the HTTP proof
 * file, through resolvers of our choosing (DNS_SERVERS) so that tests run a real
 * DNS server on 127.0.0.1 and production uses real DNS.
 */

export interface NetworkOptions {
  /** DNS_SERVERS (`host` or `host:port`). @default the system's resolvers */
  dnsServers?: string[];
  /** DOMAIN_VERIFY_ALLOW_PRIVATE: allow private/loopback/link-local targets (tests). @default false */
  allowPrivate?: boolean;
  /** Ports of the proof file's URLs; tests move them off 80/443. @default { http: 80, https: 443 } */
  ports?: { http: number; https: number };
  /** Per request, connection to last byte. @default 5000 */
  timeoutMs?: number;
  /** @default 3 */
  maxRedirects?: number;
  /** Largest proof file read. @default 4096 */
  maxBytes?: number;
}

/** Why a fetch gave no proof; shown to the admin as the verification's reason. */
export class ProbeError extends Error {
  constructor(
    readonly reason: 'REFUSED_ADDRESS' | 'NOT_RESOLVED' | 'UNREACHABLE' | 'TIMEOUT' | 'HTTP_STATUS' | 'TOO_MANY_REDIRECTS' | 'TOO_LARGE',
    message: string,
  ) {
    super(message);
  }
}

export interface Network {
  /** The TXT records of a name, each joined from its strings; [] when there are none. */
  txt(name: string): Promise<string[]>;
  /** The proof file's body (trimmed), HTTPS first then HTTP, or a ProbeError. */
  fetchProof(domain: string, path: string): Promise<string>;
  /** The addresses a name resolves to (A and AAAA). */
  addresses(name: string): Promise<string[]>;
}

export function createNetwork(options: NetworkOptions = {}): Network {
  const { allowPrivate = false, ports = { http: 80, https: 443 }, timeoutMs = 5000, maxRedirects = 3, maxBytes = 4096 } = options;
  const resolver = new Resolver({ timeout: Math.min(timeoutMs, 2000), tries: 2 });
  if (options.dnsServers?.length) resolver.setServers(options.dnsServers);

  const addresses = async (name: string): Promise<string[]> => {
    const settle = (p: Promise<string[]>) => p.catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENODATA' || error.code === 'ENOTFOUND') return [] as string[];
      throw error;
    });
    const [v4, v6] = await Promise.all([settle(resolver.resolve4(name)), settle(resolver.resolve6(name))]);
    return [...v4, ...v6];
  };

  /**
   * SECURITY: the name is resolved here, every address checked, and the
   * connection made to a checked address (the socket's lookup returns it), so a
   * second resolution cannot swap in a private one (DNS rebinding). Refused
   * before any connection is attempted.
   */
  const pinnedAddress = async (host: string): Promise<string> => {
    // A redirect may name an address rather than a name: it is checked all the same.
    const found = isIP(host) ? [host] : await addresses(host).catch(() => [] as string[]);
    if (found.length === 0) throw new ProbeError('NOT_RESOLVED', `${host} does not resolve`);
    const refused = found.filter((a) => !isPublicAddress(a));
    if (refused.length && !allowPrivate) {
      throw new ProbeError('REFUSED_ADDRESS', `${host} resolves to a private, loopback or link-local address; not fetched`);
    }
    return found[0];
  };

  const get = (url: URL, address: string): Promise<{ status: number; location?: string; body: string }> =>
    new Promise((resolve, reject) => {
      const lookup: LookupFunction = (_hostname, opts, callback) => {
        const family = address.includes(':') ? 6 : 4;
        if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
        else callback(null, address, family);
      };
      const client = url.protocol === 'https:' ? https : http;
      const request = client.get(url, { lookup, timeout: timeoutMs, headers: { 'user-agent': 'tenantgate-domain-verification' } }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            request.destroy(new ProbeError('TOO_LARGE', `${url.host} sent more than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      const timer = setTimeout(() => request.destroy(new ProbeError('TIMEOUT', `${url.host} did not answer within ${timeoutMs} ms`)), timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('timeout', () => request.destroy(new ProbeError('TIMEOUT', `${url.host} did not answer within ${timeoutMs} ms`)));
      request.on('error', (error) => reject(error instanceof ProbeError ? error : new ProbeError('UNREACHABLE', `${url.host}: ${(error as NodeJS.ErrnoException).code ?? error.message}`)));
    });

  const follow = async (start: URL): Promise<string> => {
    let url = start;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProbeError('UNREACHABLE', `redirected to a ${url.protocol} URL`);
      const address = await pinnedAddress(url.hostname.replace(/^\[|\]$/g, ''));
      const response = await get(url, address);
      if (response.status >= 300 && response.status < 400 && response.location) {
        if (hop >= maxRedirects) throw new ProbeError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects`);
        url = new URL(response.location, url);
        continue;
      }
      if (response.status !== 200) throw new ProbeError('HTTP_STATUS', `${url.host} answered ${response.status}`);
      return response.body.trim();
    }
  };

  return {
    addresses,
    async txt(name) {
      try {
        return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
        throw error;
      }
    },
    async fetchProof(domain, path) {
      const portOf = (port: number, standard: number) => (port === standard ? '' : `:${port}`);
      try {
        return await follow(new URL(`https://${domain}${portOf(ports.https, 443)}${path}`));
      } catch (error) {
        // A refused address is refused over HTTP too: no second attempt.
        if (error instanceof ProbeError && error.reason === 'REFUSED_ADDRESS') throw error;
        return await follow(new URL(`http://${domain}${portOf(ports.http, 80)}${path}`));
      }
    },
  };
}
