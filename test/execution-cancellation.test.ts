import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { types } from 'node:util';
import type { GraphQLResolveInfo } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { useExecutionCancellation } from '../src/plugins/use-execution-cancellation';

/**
 * src/plugins/use-execution-cancellation.ts over real HTTP: the executor gets an
 * AbortSignal that is neither @whatwg-node's Proxy nor one of Node's own (ADR
 * 0097), it aborts when the client goes away, with what was composed from it
 * (`AbortSignal.any`, `fetch`), and no resolver starts after that.
 */

let server: Server;
let url: string;
let seen: AbortSignal | undefined;
let composed: AbortSignal | undefined;
let fetched: Promise<unknown> | undefined;
let releaseSlow: () => void = () => undefined;
let childRan = false;
let slowStarted: Promise<void>;
let slowStartedResolve: () => void;

beforeAll(async () => {
  const yoga = createYoga({
    logging: false,
    plugins: [useExecutionCancellation()],
    schema: createSchema({
      typeDefs: 'type Query { slow: Slow! } type Slow { child: String! }',
      resolvers: {
        Query: {
          slow: (_root: unknown, _args: unknown, _ctx: unknown, info: GraphQLResolveInfo & { signal?: AbortSignal }) => {
            seen = info.signal;
            composed = AbortSignal.any([info.signal!]);
            // A resolver's own request, given the operation's signal (nothing listens there: it fails fast or aborts).
            fetched = fetch('http://127.0.0.1:9/', { signal: info.signal }).catch((error: Error) => `${error.name}: ${error.message}`);
            slowStartedResolve();
            return new Promise<object>((resolve) => (releaseSlow = () => resolve({})));
          },
        },
        Slow: {
          child: () => {
            childRan = true;
            return 'ran';
          },
        },
      },
    }),
  });
  server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = undefined;
  childRan = false;
  slowStarted = new Promise((resolve) => (slowStartedResolve = resolve));
});

it('hands the executor an AbortSignal of its own, which answers while the client waits', async () => {
  const response = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ slow { child } }' }) });
  await slowStarted;
  expect(seen).toBeInstanceOf(AbortSignal);
  expect(types.isProxy(seen)).toBe(false);
  // Not Node's own: each of those survives young-generation collections (ADR 0097).
  expect(Object.getPrototypeOf(seen)).not.toBe(AbortSignal.prototype);
  expect(seen!.aborted).toBe(false);
  releaseSlow();
  await expect((await response).json()).resolves.toEqual({ data: { slow: { child: 'ran' } } });
  expect(childRan).toBe(true);
});

it('aborts that signal when the client goes away, and starts no resolver after it', async () => {
  const client = new AbortController();
  const response = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ slow { child } }' }), signal: client.signal }).catch((error: unknown) => error);
  await slowStarted;
  client.abort();
  await response;
  const deadline = Date.now() + 5_000;
  while (!seen!.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(seen!.aborted).toBe(true);
  expect(seen!.reason).toBeDefined();
  expect(() => seen!.throwIfAborted()).toThrow();
  expect(composed!.aborted).toBe(true);
  // Refused connection or aborted, never "signal is not of type AbortSignal".
  await expect(fetched).resolves.toMatch(/^(AbortError: |TypeError: fetch failed$)/);
  releaseSlow();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(childRan).toBe(false);
});
