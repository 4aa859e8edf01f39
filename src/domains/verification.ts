import type { Prisma } from '../generated/prisma/client';
import type { Network } from './network';
import { ProbeError } from './network';
import { dnsRecordName, HTTP_PROOF_PATH } from './rules';

/**
 * Whether the proof of a domain is in place now, by DNS or HTTP. Used by
 * verifyDomain and by the daily re-check (src/domains/recheck.ts).
 */

export type ProofMethod = 'DNS' | 'HTTP';

export type ProofResult = { found: true } | { found: false; reason: string; message: string };

export async function checkProof(network: Network, method: ProofMethod, domain: string, token: string): Promise<ProofResult> {
  if (method === 'DNS') {
    const name = dnsRecordName(domain);
    const records = await network.txt(name).catch((error: NodeJS.ErrnoException) => {
      return new ProbeError('UNREACHABLE', `DNS lookup of ${name} failed (${error.code ?? error.message})`);
    });
    if (records instanceof ProbeError) return { found: false, reason: records.reason, message: records.message };
    if (records.length === 0) return { found: false, reason: 'RECORD_NOT_FOUND', message: `No TXT record at ${name}` };
    if (!records.some((r) => r.trim() === token)) return { found: false, reason: 'WRONG_TOKEN', message: `The TXT record at ${name} does not hold the current token` };
    return { found: true };
  }
  try {
    const body = await network.fetchProof(domain, HTTP_PROOF_PATH);
    if (body !== token) return { found: false, reason: 'WRONG_TOKEN', message: `${HTTP_PROOF_PATH} does not hold the current token` };
    return { found: true };
  } catch (error) {
    if (error instanceof ProbeError) return { found: false, reason: error.reason, message: error.message };
    throw error;
  }
}

/** The columns of organization_domains that verification reads, as the tenant client returns them. */
export type DomainRow = Prisma.OrganizationDomainGetPayload<object>;
