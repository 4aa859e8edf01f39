import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import type { DemoSignIn } from '../graphiql';

/**
 * `GET /dashboard`: an organization's usage for its owners and admins. The page
 * holds no data: its script (page.js) asks the GraphQL API with the token
 * its user gives, so the API's own rules decide what it shows. uPlot draws the
 * charts and is served from node_modules here, not from a CDN.
 */

const asset = (file: string) => readFileSync(file, 'utf8');

function assets(): Record<string, { body: string; type: string }> {
  const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  // page.js sits beside this file in src/; the build copies it beside the compiled one.
  return {
    '/dashboard/uplot.js': { body: asset(path.join(uplot, 'uPlot.iife.min.js')), type: 'text/javascript; charset=utf-8' },
    '/dashboard/uplot.css': { body: asset(path.join(uplot, 'uPlot.min.css')), type: 'text/css; charset=utf-8' },
    '/dashboard/page.js': { body: asset(path.join(__dirname, 'page.js')), type: 'text/javascript; charset=utf-8' },
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(signIns: DemoSignIn[], token: string | undefined): string {
  const links = signIns.map((u) => `<a href="/dashboard?as=${encodeURIComponent(u.email)}">${escapeHtml(u.email)}</a>`).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tenantgate · usage</title>
<link rel="stylesheet" href="/dashboard/uplot.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2a2a; background: #f6f8f8; }
  header { background: #0f3d3e; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: center; }
  header a { color: #9fe; }
  main { padding: 16px 20px; }
  form { display: flex; gap: 8px; margin-bottom: 12px; }
  #token { flex: 1; font: 12px monospace; padding: 4px; }
  section { background: #fff; border: 1px solid #dde5e5; border-radius: 6px; padding: 10px 14px; margin-bottom: 12px; }
  table { border-collapse: collapse; }
  th, td { text-align: left; padding: 3px 14px 3px 0; }
  #charts { display: flex; flex-wrap: wrap; gap: 12px; }
  .error { color: #a11; } .ready { color: #286; }
  .invoice-open td:nth-child(2) { color: #a60; } .invoice-paid td:nth-child(2) { color: #286; }
</style>
</head>
<body${token ? ` data-token="${escapeHtml(token)}"` : ''}>
<header><strong>tenantgate</strong> <span>Usage dashboard</span> <a href="/graphql">GraphiQL</a>
${links ? `<span>Sign in as (development): ${links}</span>` : ''}</header>
<main>
<form id="signin"><input id="token" placeholder="Paste a token of an owner or admin (Bearer …)" autocomplete="off"><button>Show usage</button></form>
<p id="status">Sign in with a token: <code>npm run token -- --email &lt;email&gt; --raw</code> prints one.</p>
<div id="content" hidden>
<section><h2 id="organization"></h2><p id="viewer"></p><p>This month and last month: <span id="period"></span></p>
<table><thead><tr><th></th><th>This month</th><th>Last month</th><th>Plan quota (used of limit)</th></tr></thead><tbody id="usage"></tbody></table></section>
<section><h3>Per day, last 30 days</h3><div id="charts"></div></section>
<section><h3>Invoices</h3><table><thead><tr><th>Month</th><th>Status</th><th>Total</th><th>Due</th></tr></thead><tbody id="invoices"></tbody></table></section>
<section><h3>Members by role</h3><ul id="members"></ul></section>
</div>
</main>
<script src="/dashboard/uplot.js"></script>
<script src="/dashboard/page.js"></script>
</body>
</html>`;
}

export function useDashboard({ signIns = () => [] }: { signIns?: () => DemoSignIn[] } = {}): Plugin {
  const files = assets();
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/dashboard' && !url.pathname.startsWith('/dashboard/')) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') return endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
      const headers = {
        // SECURITY: the page's own scripts only, no frames, no other origin.
        'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      if (url.pathname === '/dashboard') {
        const users = signIns();
        const as = url.searchParams.get('as');
        const token = users.find((u) => u.email === as)?.authorization.replace(/^Bearer /, '');
        return endResponse(new fetchAPI.Response(page(users, token), { headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } }));
      }
      const file = files[url.pathname];
      if (!file) return endResponse(new fetchAPI.Response('Not found', { status: 404, headers }));
      return endResponse(new fetchAPI.Response(file.body, { headers: { ...headers, 'content-type': file.type, 'cache-control': 'public, max-age=3600' } }));
    },
  };
}
