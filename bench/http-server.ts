import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request handler as node:http takes it; a Yoga instance is one. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface RunningServer {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** Requests whose response finished (or whose connection closed) since start. */
  completed(): number;
  /** Requests being served now. */
  inFlight(): number;
  /** Waits until no request is in flight and no handler is still running, at most `timeoutMs`. */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the handler on 127.0.0.1 on a free port, counting requests on the server
 * side: statements per request are divided by what the server finished, which
 * includes the few requests still in flight when the load generator stopped.
 */
export async function serve(handler: Handler): Promise<RunningServer> {
  let inFlight = 0;
  let completed = 0;
  // Handlers still running: a request whose client went away (autocannon closes its connections when a
  // run ends) counts as completed at once, but its handler may still be querying the database.
  let running = 0;
  const server = createServer((req, res) => {
    inFlight += 1;
    running += 1;
    res.once('close', () => {
      inFlight -= 1;
      completed += 1;
    });
    void Promise.resolve()
      .then(() => handler(req, res))
      .finally(() => {
        running -= 1;
      });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    completed: () => completed,
    inFlight: () => inFlight,
    async drain(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while ((inFlight > 0 || running > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
