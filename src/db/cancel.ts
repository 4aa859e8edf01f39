import { connect } from 'node:net';
import type pg from 'pg';

/**
 * Cancels the statement a connection is running, as libpq's PQcancel does: a
 * CancelRequest (the backend's process id and secret key, from the connection's
 * start-up) sent on a second, short-lived socket to the same server. It needs no
 * login and no pooled connection, so it works when the pool is exhausted. The
 * statement then fails with 57014 (query_canceled); a backend that is not
 * running a statement ignores it. Resolves once the request is sent (true), or
 * false when it could not be (no key, the server unreachable): never throws.
 */

/** What node-postgres keeps of the connection's start-up (pg/lib/client.js: backendKeyData). */
interface BackendKey {
  processID?: number | null;
  secretKey?: number | null;
}

const CANCEL_REQUEST_CODE = 80877102;

export function cancelRunningStatement(connection: pg.PoolClient, timeoutMs = 2_000): Promise<boolean> {
  const { processID, secretKey, host, port } = connection as pg.PoolClient & BackendKey & { host?: string; port?: number };
  if (typeof processID !== 'number' || typeof secretKey !== 'number' || !port) return Promise.resolve(false);
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  return new Promise((resolve) => {
    const socket = host?.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host ?? 'localhost');
    const done = (sent: boolean) => {
      socket.destroy();
      resolve(sent);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    // The server closes the socket once it has read the request.
    socket.once('connect', () => socket.end(message, () => resolve(true)));
    socket.once('close', () => resolve(true));
  });
}
