import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

/** A demo user whose header the development GraphiQL offers ("sign in as": `/graphql?as=<email>`). */
export interface DemoSignIn {
  email: string;
  label: string;
  /** `Bearer <token>`. */
  authorization: string;
}

export const EXAMPLE_QUERY = `# Welcome to tenantgate: every query is scoped to the organization of your token.
#
# Put your token in the Headers tab below:
#   {"Authorization": "Bearer <token>"}
# \`npm start\` prints one per demo user; \`npm run token -- --email <email>\` makes more.
# Then run this query with the ▶ button (or Ctrl-Enter).

query Example {
  viewer {
    user { email name }
    role
    organization { name slug }
  }
  projects(first: 5) {
    totalCount
    edges { node { name status } }
  }
}
`;

export const GRAPHIQL_TITLE = 'tenantgate GraphiQL';

/**
 * Yoga's GraphiQL options, per request: branded, opening on the example query
 * with an Authorization header to fill; `?as=<email>` of a demo user (development)
 * fills it with that user's token.
 */
export function graphiqlOptions(signIns: () => DemoSignIn[]): (request: Request) => GraphiQLOptions {
  return (request) => {
    const as = new URL(request.url).searchParams.get('as');
    const signIn = as ? signIns().find((u) => u.email === as) : undefined;
    return {
      title: GRAPHIQL_TITLE,
      defaultQuery: EXAMPLE_QUERY,
      defaultEditorToolsVisibility: 'headers',
      // Without a token GraphiQL still introspects (anonymous introspection is allowed); a placeholder would fail it.
      headers: signIn ? JSON.stringify({ Authorization: signIn.authorization }, null, 2) : '{}',
    };
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GraphiQL with every script and stylesheet inline (@graphql-yoga/render-graphiql
 * bundles them): nothing is loaded from a CDN. Above it, a bar with where the
 * token goes and, in development, a link per demo user
 * that opens GraphiQL with that user's header.
 */
export function renderTenantGraphiQL(signIns: () => DemoSignIn[]): (options: GraphiQLOptions) => string {
  return (options) => {
    const users = signIns();
    const links = users
      .map((u) => `<a class="signin" href="/graphql?as=${encodeURIComponent(u.email)}" title="${escapeHtml(u.label)}">${escapeHtml(u.email)}</a>`)
      .join(' ');
    const bar = `
<div id="tenantgate-bar">
  <strong>tenantgate</strong>
  <span>Requests need <code>{"Authorization": "Bearer &lt;token&gt;"}</code> in the Headers tab below.</span>
  ${users.length ? `<span>Sign in as (development): ${links}</span>` : ''}
  <a class="dashboard" href="/dashboard">Usage dashboard</a>
</div>
<style>
  #tenantgate-bar { height: 40px; box-sizing: border-box; display: flex; gap: 16px; align-items: center; padding: 0 16px;
    font: 14px system-ui, sans-serif; background: #0f3d3e; color: #fff; }
  #tenantgate-bar code { background: rgba(255,255,255,.15); padding: 1px 4px; border-radius: 3px; }
  #tenantgate-bar a { color: #9fe; }
  #tenantgate-bar a.dashboard { margin-left: auto; }
  #root { height: calc(100vh - 40px) !important; }
</style>
<script>
  // Signing in: GraphiQL's saved tabs would override the header given for this user.
  if (/[?&]as=/.test(location.search)) Object.keys(localStorage).filter(function (k) { return k.indexOf('graphiql:') === 0; }).forEach(function (k) { localStorage.removeItem(k); });
</script>
`;
    return renderGraphiQL(options).replace(/<body([^>]*)>/, (body) => `${body}${bar}`);
  };
}
