import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createBestBare } from '../bench/best-bare';
import { serve, type RunningServer } from '../bench/http-server';
import { packageOf, summarizeProfile } from '../bench/profile';
import { ratiosPerRound } from '../bench/rounds';
import { inDialect, normalizeResponse, projectGlobalId, SCENARIOS, type TokenEntry } from '../bench/scenarios';
import type { HttpRoundRun } from '../bench/http-bench';
import { startHarness, TEST_SECRET, type Harness, type TestOrganization } from './helpers/harness';

/**
 * The benchmark's peers (issue 18): the best bare server answers as the
 * gateway does, scoped by RLS, in one round trip of four statements; a
 * PostGraphile answer maps to the gateway's shape and passes its check; the
 * profile summary charges samples to the right package.
 */

const CreateProject = /* GraphQL */ `
  mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }
`;

describe('best bare server', () => {
  let h: Harness;
  let bare: ReturnType<typeof createBestBare>;
  let server: RunningServer;
  let acme: TestOrganization;
  let globex: TestOrganization;

  beforeAll(async () => {
    h = await startHarness();
    bare = createBestBare({ runtimeUrl: h.runtimeUrl, secret: TEST_SECRET, poolSize: 2 });
    server = await serve(bare.handler);
    [acme, globex] = [await h.createOrganization('Acme'), await h.createOrganization('Globex')];
    for (const [org, names] of [[acme, ['a1', 'a2', 'a3']], [globex, ['g1']]] as const) {
      for (const name of names) {
        const created = await h.execute(CreateProject, { token: org.member.token, variables: { input: { name } } });
        expect(created.errors).toBeUndefined();
      }
    }
  });
  afterAll(async () => {
    await server?.close();
    await bare?.close();
    await h?.close();
  });

  const post = async (token: string, body: unknown) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] } };
  };

  it("returns the gateway's page, only the caller's organization, with four statements per request", async () => {
    const body = SCENARIOS.projects.body({} as TokenEntry, () => 0);
    const gateway = await h.execute(body.query, { token: acme.member.token });
    // Twice: the second request runs the prepared statements the first one parsed.
    for (let i = 0; i < 2; i++) {
      const before = bare.statementCount();
      const bareAnswer = await post(acme.member.token, body);
      expect(bare.statementCount() - before).toBe(4);
      expect(bareAnswer.status).toBe(200);
      expect(bareAnswer.json.data).toEqual(gateway.data);
    }
    const edges = (gateway.data as { projects: { edges: { node: { name: string } }[] } }).projects.edges;
    expect(edges.map((e) => e.node.name).sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it("finds one project by id in the caller's organization only", async () => {
    const page = await post(acme.member.token, SCENARIOS.projects.body({} as TokenEntry, () => 0));
    const id = (page.json.data as { projects: { edges: { node: { id: string } }[] } }).projects.edges[0].node.id;
    const query = SCENARIOS.project.query;
    const own = await post(acme.member.token, { query, variables: { id } });
    expect((own.json.data as { project: { id: string } }).project.id).toBe(id);
    // Another organization's token: RLS hides it (the settings really were set before the query ran).
    const other = await post(globex.member.token, { query, variables: { id } });
    expect(other.json.data).toEqual({ project: null });
  });

  it('sends its four statements in one round trip: nothing waits for an answer before COMMIT is written', async () => {
    // A proxy between the server and PostgreSQL that, once gated, holds every answer back until the
    // client has written COMMIT. A server that waited for BEGIN's answer before sending the rest would
    // never get it, and its request would time out.
    const target = new URL(h.runtimeUrl);
    let gated = false;
    let sentSinceGate = '';
    const release: (() => void)[] = [];
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      client.on('data', (chunk) => {
        if (gated) {
          sentSinceGate += chunk.toString('latin1');
          if (sentSinceGate.includes('COMMIT')) {
            gated = false;
            for (const flush of release.splice(0)) flush();
          }
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (gated) release.push(() => client.write(chunk));
        else client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = new URL(h.runtimeUrl);
    viaProxy.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const gatedBare = createBestBare({ runtimeUrl: viaProxy.toString(), secret: TEST_SECRET, poolSize: 1 });
    const gatedServer = await serve(gatedBare.handler);
    try {
      const body = JSON.stringify(SCENARIOS.projects.body({} as TokenEntry, () => 0));
      const ask = () =>
        fetch(gatedServer.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.member.token}` },
          body,
          signal: AbortSignal.timeout(10_000),
        }).then(async (r) => (await r.json()) as { data?: { projects: { edges: unknown[] } } });
      // The first request connects and prepares, ungated; the second is held to one round trip.
      expect((await ask()).data?.projects.edges).toHaveLength(3);
      gated = true;
      expect((await ask()).data?.projects.edges).toHaveLength(3);
      expect(sentSinceGate).toContain('BEGIN READ ONLY');
    } finally {
      await gatedServer.close();
      await gatedBare.close();
      proxy.close();
    }
  }, 30_000);

  it('refuses a request without a valid token', async () => {
    const response = await post('not-a-token', SCENARIOS.projects.body({} as TokenEntry, () => 0));
    expect(response.status).toBe(401);
  });
});

describe('PostGraphile dialect', () => {
  const rowId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const entry: TokenEntry = {
    organizationId: '0b357bfd-5b06-4a79-bcdb-97e1e644798e',
    token: 't',
    expectedPageSize: 1,
    projectGlobalIds: [projectGlobalId(rowId)],
  };

  it("asks for the same rows in PostGraphile's words", () => {
    const project = inDialect('postgraphile', 'project', entry, SCENARIOS.project.body(entry, () => 0));
    expect(project.variables).toEqual({ org: entry.organizationId, id: rowId });
    expect(inDialect('postgraphile', 'projects', entry, SCENARIOS.projects.body(entry, () => 0)).variables).toEqual({ org: entry.organizationId });
    expect(() => inDialect('postgraphile', 'tasks', entry, SCENARIOS.tasks.body(entry, () => 0))).toThrow();
  });

  it("maps PostGraphile's answer to the gateway's shape, which the gateway's check then judges", () => {
    const node = { rowId, name: 'P', status: 'ACTIVE', owner: { email: 'o@example.com' } };
    const page = normalizeResponse('postgraphile', 'projects', { data: { allProjects: { nodes: [node] } } });
    expect(page).toEqual({ data: { projects: { edges: [{ node: { id: projectGlobalId(rowId), name: 'P', status: 'ACTIVE', owner: { email: 'o@example.com' } } }] } } });
    expect(SCENARIOS.projects.check(entry, SCENARIOS.projects.body(entry, () => 0), page)).toBeNull();
    // A wrong answer still fails: a missing owner, or errors.
    const noOwner = normalizeResponse('postgraphile', 'projects', { data: { allProjects: { nodes: [{ ...node, owner: null }] } } });
    expect(SCENARIOS.projects.check(entry, SCENARIOS.projects.body(entry, () => 0), noOwner)).toBe('owner.email missing');
    const errors = normalizeResponse('postgraphile', 'projects', { errors: [{ message: 'x' }] });
    expect(SCENARIOS.projects.check(entry, SCENARIOS.projects.body(entry, () => 0), errors)).toBe('graphql-errors');
    const one = normalizeResponse('postgraphile', 'project', { data: { projectByOrganizationIdAndRowId: node } });
    expect(SCENARIOS.project.check(entry, SCENARIOS.project.body(entry, () => 0), one)).toBeNull();
  });
});

describe('profile summary', () => {
  it('names the package of a frame', () => {
    const nm = 'file:///app/node_modules';
    expect(packageOf(`${nm}/graphql/language/parser.js`)).toMatch(/parse/);
    expect(packageOf(`${nm}/graphql/validation/validate.js`)).toMatch(/validate/);
    expect(packageOf(`${nm}/graphql/execution/execute.js`)).toMatch(/execute/);
    expect(packageOf(`${nm}/@pothos/core/esm/index.js`)).toMatch(/Pothos/);
    expect(packageOf(`${nm}/@prisma/client/runtime/client.js`)).toMatch(/client runtime/);
    expect(packageOf('wasm://wasm/00d1cb12')).toMatch(/query compiler/);
    expect(packageOf(`${nm}/pg-protocol/dist/parser.js`)).toMatch(/^pg/);
    expect(packageOf(`${nm}/graphql-yoga/cjs/server.js`)).toMatch(/yoga/);
    expect(packageOf('file:///app/src/db/client.ts')).toBe('src/ (tenantgate): db');
    expect(packageOf('node:_http_server')).toBeNull();
  });

  it("charges Node's own code to its caller, and only what no package called to node:http", () => {
    const frame = (id: number, url: string, children: number[] = [], functionName = 'f') => ({ id, callFrame: { url, functionName }, children });
    const profile = {
      nodes: [
        frame(1, '', [2, 4, 6], '(root)'),
        frame(2, 'file:///app/node_modules/pg/lib/client.js', [3]),
        frame(3, 'node:buffer'),
        frame(4, 'node:_http_common', [5]),
        frame(5, 'node:internal/streams/readable'),
        frame(6, '', [], '(idle)'),
      ],
      // The first sample is the profiler's start: left out.
      samples: [2, 3, 3, 5, 6],
      timeDeltas: [1_000_000, 1000, 1000, 1000, 1000],
    };
    const totals = summarizeProfile(profile);
    expect(Object.fromEntries(totals)).toEqual({
      'pg (pg, pg-protocol, pg-types, pg-pool)': 2,
      'HTTP: node:http/net/streams': 1,
      '(idle)': 1,
    });
  });

  it('takes ratios round by round against the reference named', () => {
    const run = (server: string, round: number, rps: number) => ({ scenario: 'projects', server, connections: 50, round, requestsPerSecond: rps }) as unknown as HttpRoundRun;
    const runs = [run('gateway', 1, 100), run('postgraphile', 1, 200), run('gateway', 2, 150), run('postgraphile', 2, 100), run('baseline', 1, 50)];
    const gateway = { ...runs[0], rounds: 2 } as never;
    expect(ratiosPerRound(runs, gateway, 'postgraphile')).toEqual([0.5, 1.5]);
    expect(ratiosPerRound(runs, gateway)).toEqual([2]);
  });
});
