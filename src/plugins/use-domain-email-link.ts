import type { Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { hashToken } from '../domains/rules';

/**
 * `/domains/verify-email?token=…`: the link of a domain-verification email
 * (sendDomainVerificationEmail). GET answers a page with a button; its POST
 * verifies. Mail scanners and link previews GET every link they see, so a GET
 * alone changes nothing.
 *
 * The token is the proof (it reached the domain's administrative mailbox); the
 * work is app.confirm_domain_email(), a SECURITY DEFINER function on the runtime
 * pool that finds the claim by the token's sha256 and tells only the domain and
 * the outcome. The first organization to verify a domain keeps it.
 */

export const DOMAIN_EMAIL_LINK_PATH = '/domains/verify-email';
const MAX_BODY_BYTES = 4096;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, title: string, body: string): [number, string] {
  return [status, `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1>${body}`];
}

const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

export function useDomainEmailLink({ pool }: { pool: pg.Pool }): Plugin {
  async function handle(request: Request, url: URL): Promise<[number, string]> {
    if (request.method === 'GET') {
      const token = url.searchParams.get('token') ?? '';
      if (!TOKEN.test(token)) return page(400, 'This link is not valid', '');
      return page(
        200,
        'Verify this domain',
        `<form method="post" action="${DOMAIN_EMAIL_LINK_PATH}"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">Verify the domain</button></form>`,
      );
    }
    if (request.method !== 'POST') return page(405, 'Use GET or POST', '');
    if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return page(413, 'Too large', '');
    const text = await request.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) return page(413, 'Too large', '');
    const token = new URLSearchParams(text).get('token') ?? '';
    if (!TOKEN.test(token)) return page(400, 'This link is not valid', '');
    let rows: { domain: string; outcome: string }[];
    try {
      ({ rows } = await pool.query<{ domain: string; outcome: string }>('SELECT domain, outcome FROM app.confirm_domain_email($1)', [hashToken(token)]));
    } catch (error) {
      // Another organization's verification committed between the function's check and its write.
      if ((error as { code?: string; constraint?: string }).constraint === 'organization_domains_verified_once') {
        return page(409, 'This domain is already verified by another organization', '');
      }
      throw error;
    }
    const [row] = rows;
    if (!row) return page(404, 'This link is not valid (it may have been replaced by a newer one)', '');
    switch (row.outcome) {
      case 'verified':
        return page(200, `${row.domain} is verified`, '<p>You can close this page.</p>');
      case 'expired':
        return page(410, `This link for ${row.domain} has expired`, '<p>Ask for a new one.</p>');
      default:
        return page(409, `${row.domain} is already verified by another organization`, '');
    }
  }

  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== DOMAIN_EMAIL_LINK_PATH) return;
      const [status, html] = await handle(request, url).catch((error: unknown) => {
        console.error('domain email link:', error);
        return page(500, 'Unexpected error.', '');
      });
      endResponse(new fetchAPI.Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } }));
    },
  };
}
