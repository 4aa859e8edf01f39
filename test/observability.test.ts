import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTokenVerifier } from '../src/auth/tokens';
import { createDatabase, type Database } from '../src/db/client';
import { createLogger } from '../src/ops/logger';
import { createMetrics, type Metrics } from '../src/ops/metrics';
import { createTracing, type Tracing } from '../src/ops/tracing';
import { createGateway, type Gateway } from '../src/yoga';
import { startHarness, TEST_SECRET, testUrls, type Harness, type TestOrganization } from './helpers/harness';

/**
 * The request log, /metrics and the traces of a gateway built as src/server.ts
 * builds it, on the suite's database, called as two organizations.
 */

let harness: Harness;
let db: Database;
let gateway: Gateway;
let metrics: Metrics;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
let draining = false;
let acme: TestOrganization;
let globex: TestOrganization;

beforeAll(async () => {
  harness = await startHarness();
  db = createDatabase({ url: testUrls().runtimeUrl, max: 2 });
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  metrics = createMetrics({ pools: { runtime: db.pool }, processMetrics: false });
  tracing = createTracing({ serviceName: 'tenantgate-test', exporter, batch: false });
  gateway = createGateway({
    db,
    verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
    logger: createLogger({ level: 'info', format: 'json', destination }),
    metrics,
    tracer: tracing.tracer,
    usage: false,
    graphiql: false,
    draining: () => draining,
    expectedMigration: '20261204170100_migration_version',
  });
  [acme, globex] = [await harness.createOrganization('Acme'), await harness.createOrganization('Globex')];
});

afterAll(async () => {
  await gateway.dispose();
  await tracing.shutdown();
  await db.close();
  await harness.close();
});

function post(body: unknown, headers: Record<string, string> = {}) {
  return gateway.fetch('http://tenantgate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const logOf = (requestId: string) => lines.find((l) => l.requestId === requestId);

it('logs one JSON line per request: request id, organization, user, operation, status, duration, statements', async () => {
  const response = await post(
    { query: 'query WhoAmI($secret: String!) { viewer { role } organization { slug } __type(name: $secret) { name } }', variables: { secret: 'hunter2-variable-value' } },
    { authorization: `Bearer ${acme.owner.token}`, 'x-request-id': 'req-acme-1' },
  );
  expect(response.status).toBe(200);
  expect(response.headers.get('x-request-id')).toBe('req-acme-1');
  expect(await response.json()).toEqual({ data: { viewer: { role: 'OWNER' }, organization: { slug: acme.slug }, __type: null } });
  const line = logOf('req-acme-1');
  expect(line).toMatchObject({
    level: 30,
    requestId: 'req-acme-1',
    organizationId: acme.id,
    userId: acme.owner.id,
    operationType: 'query',
    operationName: 'WhoAmI',
    status: 200,
    method: 'POST',
    path: '/graphql',
  });
  expect(line?.statements).toBeGreaterThan(0);
  expect(typeof line?.durationMs).toBe('number');
  expect(typeof line?.time).toBe('string');

  // The other organization's request is logged with its own organization, never acme's.
  await post({ query: 'query WhoAmI { viewer { role } }' }, { authorization: `Bearer ${globex.member.token}`, 'x-request-id': 'req-globex-1' });
  expect(logOf('req-globex-1')).toMatchObject({ organizationId: globex.id, userId: globex.member.id });

  const all = raw.join('\n');
  expect(all).not.toContain(acme.owner.token);
  expect(all).not.toContain('hunter2-variable-value');
  expect(all).not.toContain('organization { slug }');
});

it("counts each request's own statements in its log line, queries and mutations alike, while others run beside it", async () => {
  const requests = (i: number): [unknown, string][] => [
    [{ query: 'query { projects(first: 5) { edges { node { id name owner { email } } } } }' }, acme.owner.token],
    [{ query: 'mutation($name: String!) { createProject(input: { name: $name }) { project { id name } } }', variables: { name: `Counted ${i}` } }, acme.owner.token],
    [{ query: 'query { viewer { role } }' }, globex.member.token],
  ];
  const send = (id: string, [body, token]: [unknown, string]) => post(body, { authorization: `Bearer ${token}`, 'x-request-id': id });
  // Warm: the access cache remembers each member, so the measured requests open the same way.
  for (const [k, request] of requests(0).entries()) expect((await send(`warm-${k}`, request)).status).toBe(200);
  const alone: number[] = [];
  for (const [k, request] of requests(1).entries()) {
    const before = db.statementCount();
    await send(`alone-${k}`, request);
    alone.push(db.statementCount() - before);
    expect(logOf(`alone-${k}`)?.statements).toBe(alone[k]);
  }
  expect(alone.every((n) => n > 0)).toBe(true);
  await Promise.all([2, 3, 4].flatMap((i) => requests(i).map((request, k) => send(`together-${i}-${k}`, request))));
  for (const i of [2, 3, 4]) for (const k of alone.keys()) expect({ k, statements: logOf(`together-${i}-${k}`)?.statements }).toEqual({ k, statements: alone[k] });
});

it('logs the path of a response Yoga makes before the plugins run (a CORS preflight)', async () => {
  const response = await gateway.fetch('http://tenantgate.test/graphql', {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'x-request-id': 'preflight-1' },
  });
  expect(response.status).toBeLessThan(300);
  expect(logOf('preflight-1')).toMatchObject({ method: 'OPTIONS', path: '/graphql' });
});

it('replaces an X-Request-Id that could forge log lines, and logs refused requests with their error codes', async () => {
  const response = await post({ query: '{ viewer { role } }' }, { authorization: 'Bearer not-a-token', 'x-request-id': 'evil\u2028{"level":60}' });
  const id = response.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const line = logOf(id!);
  expect(line).toMatchObject({ status: 401, errors: ['UNAUTHENTICATED'] });
  expect(line?.organizationId).toBeUndefined();
  expect(raw.join('\n')).not.toContain('not-a-token');
});

it('serves Prometheus metrics: requests, errors by code, latency by operation, the pool; no organization label by default', async () => {
  await post({ query: 'query Projects { projects(first: 1) { totalCount } }' }, { authorization: `Bearer ${acme.member.token}` });
  const response = await gateway.fetch('http://tenantgate.test/metrics');
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  expect(text).toMatch(/^tenantgate_http_requests_total\{route="\/graphql",status="200"\} [1-9]/m);
  expect(text).toMatch(/^tenantgate_graphql_errors_total\{code="UNAUTHENTICATED"\} 1$/m);
  expect(text).toMatch(/^tenantgate_graphql_operations_total\{type="query",name="WhoAmI"\} 2$/m);
  expect(text).toMatch(/^tenantgate_graphql_duration_seconds_count\{type="query",name="Projects"\} 1$/m);
  expect(text).toMatch(/^tenantgate_db_pool_connections\{pool="runtime",state="total"\} [0-9]/m);
  expect(text).toMatch(/^tenantgate_quota_refusals_total 0$/m);
  expect(text).toMatch(/^tenantgate_usage_flush_lag_seconds [0-9.]+$/m);
  expect(text).not.toContain(acme.id);
  expect(text).not.toContain(globex.id);
});

it('bounds the per-organization label: the first N organizations, then "other"', () => {
  const bounded = createMetrics({ organizationLabels: 1, processMetrics: false });
  for (const organizationId of ['org-a', 'org-b', 'org-c']) {
    bounded.observe({ path: '/graphql', status: 200, durationSeconds: 0.01, operationType: 'query', operationName: 'Q', organizationId, errorCodes: [] });
  }
  return bounded.registry.getSingleMetricAsString('tenantgate_organization_requests_total').then((text) => {
    expect(text).toContain('tenantgate_organization_requests_total{organization="org-a"} 1');
    expect(text).toContain('tenantgate_organization_requests_total{organization="other"} 2');
  });
});

it('traces each request with the organization id as a span attribute', async () => {
  exporter.reset();
  await post({ query: 'query Traced { viewer { role } }' }, { authorization: `Bearer ${acme.admin.token}` });
  await post({ query: 'query Traced { viewer { role } }' }, { authorization: `Bearer ${globex.owner.token}` });
  const spans = exporter.getFinishedSpans();
  const server = spans.filter((s) => s.name === 'query Traced');
  expect(server.map((s) => s.attributes['tenantgate.organization.id'])).toEqual([acme.id, globex.id]);
  expect(server[0].attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Traced', 'http.response.status_code': 200 });
  const executes = spans.filter((s) => s.name === 'graphql.execute Traced');
  expect(executes).toHaveLength(2);
  // Each execution is a child of its request's span.
  expect(executes.map((s) => s.parentSpanContext?.spanId)).toEqual(server.map((s) => s.spanContext().spanId));
  expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(acme.admin.token);
});

it('answers /healthz and /readyz with JSON: the database check and the migration version; 503 while draining', async () => {
  const health = await gateway.fetch('http://tenantgate.test/healthz');
  expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  const ready = await gateway.fetch('http://tenantgate.test/readyz');
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ok', database: 'ok', migration: expect.stringMatching(/^\d{14}_/) });
  draining = true;
  const stopping = await gateway.fetch('http://tenantgate.test/readyz');
  draining = false;
  expect([stopping.status, await stopping.json()]).toEqual([503, { status: 'draining' }]);
});

it('/ says where the API is when GraphiQL is off, and redirects to GraphiQL when it is on', async () => {
  const off = await gateway.fetch('http://tenantgate.test/');
  expect(off.status).toBe(200);
  expect(await off.json()).toMatchObject({ graphql: '/graphql' });
  const withGraphiql = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false, usage: false });
  const on = await withGraphiql.fetch('http://tenantgate.test/', { redirect: 'manual' });
  expect([on.status, on.headers.get('location')]).toEqual([302, '/graphql']);
  const page = await withGraphiql.fetch('http://tenantgate.test/graphql', { headers: { accept: 'text/html' } });
  const html = await page.text();
  expect(html).toContain('<title>tenantgate GraphiQL</title>');
  expect(html).toContain('Authorization');
  // Everything inline: no script or stylesheet from another origin.
  expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
  await withGraphiql.dispose();
});
