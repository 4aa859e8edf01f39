import { Socket } from 'node:net';
import pg from 'pg';

/**
 * A node-postgres client that keeps the socket it talks over, so that several
 * statements can leave in one write (`writeTogether`).
 *
 * It uses node-postgres' public `stream` option (a function returning the
 * socket) and pg-pool's `Client` option, nothing internal. With TLS,
 * node-postgres wraps this socket; corking it still gathers the encrypted
 * records into one write.
 */
export class CorkingClient extends pg.Client {
  readonly socket: Socket;

  constructor(config?: pg.ClientConfig) {
    const socket = new Socket();
    super({ ...config, stream: () => socket });
    this.socket = socket;
  }
}

/**
 * Runs `write`, in which statements are sent on `connection`, with the socket
 * corked: what they write leaves in one system call when it returns.
 *
 * PERF: on this kind of machine a write to PostgreSQL's socket costs about as
 * much CPU as the rest of a statement's handling in Node (the benchmark's
 * profile: `writev`/`writeBuffer`, ~14% of the gateway's samples for 3 writes
 * per request). A connection not made by CorkingClient writes as it would.
 */
export function writeTogether(connection: pg.ClientBase, write: () => void): void {
  corked(connection, write, (socket) => socket.uncork());
}

/**
 * Runs `write` with the socket corked until the end of this turn of the event
 * loop (setImmediate): whatever else is written on the connection until then,
 * by its next user, leaves in the same system call.
 */
export function writeThisTurn(connection: pg.ClientBase, write: () => void): void {
  corked(connection, write, (socket) => setImmediate(() => socket.uncork()));
}

function corked(connection: pg.ClientBase, write: () => void, uncork: (socket: Socket) => void): void {
  const socket = connection instanceof CorkingClient ? connection.socket : null;
  socket?.cork();
  try {
    write();
  } finally {
    if (socket) uncork(socket);
  }
}
