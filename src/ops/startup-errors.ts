import pg from 'pg';

/**
 * Turns what node-postgres throws at a first connection into one line naming
 * the variable to fix, instead of a bare ECONNREFUSED.
 */
export function explainDatabaseError(error: unknown, variable: string, url: string): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  let where = 'the database';
  try {
    const parsed = new URL(url);
    where = `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}`;
  } catch {
    // the URL was checked by loadConfig; keep the generic wording
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `${variable}: nothing answers at ${where.replace('PostgreSQL at ', '')} (ECONNREFUSED): start PostgreSQL there, or fix the host and port in ${variable}.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${variable}: the host of ${where} is not found (${code}): fix the host in ${variable}.`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `${variable}: ${where} did not answer in time: check the host, the port and any firewall, or fix ${variable}.`;
    case '28P01':
    case '28000':
      return `${variable}: ${where} refused the user or password (${code}): fix the credentials in ${variable}.`;
    case '3D000':
      return `${variable}: ${where} has no such database (3D000): create it, or fix the database name in ${variable}.`;
    case '57P03':
      return `${variable}: ${where} is starting or shutting down (57P03): try again in a moment.`;
    default:
      return `${variable}: could not connect to ${where}: ${message ?? String(error)}. Check ${variable}.`;
  }
}

/** Connects once and disconnects, so that a wrong URL is reported before anything else starts. */
export async function checkDatabase(url: string, variable: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A failed connection also emits 'error'; the rejection below carries it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const timedOut = /timeout/i.test((error as Error)?.message ?? '');
    throw new StartupError(explainDatabaseError(timedOut ? { code: 'CONNECT_TIMEOUT' } : error, variable, url));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A mistake of the setup, printed as its message alone (no stack). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The message for a port the gateway cannot listen on. */
export function explainListenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `PORT ${port} on ${host} is taken by another program (EADDRINUSE): stop it, or set PORT to a free port.`;
  if (error.code === 'EACCES') return `PORT ${port} on ${host} needs privileges this process lacks (EACCES): set PORT to 1024 or above.`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return `HOST ${host} is not an address of this machine (${error.code}): set HOST to 127.0.0.1, 0.0.0.0 or one of its addresses.`;
  return `Could not listen on ${host}:${port}: ${error.message}. Check HOST and PORT.`;
}
