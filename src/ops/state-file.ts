import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * `.data/gateway.json`: what a running gateway tells the scripts beside it
 * (`npm run token`, `npm run db:migrate`): its pid, its URL and the embedded
 * PostgreSQL's port, so they need no variable repeated. Holds no secret.
 */
export interface GatewayState {
  pid: number;
  url: string;
  /** The embedded PostgreSQL's port, when the gateway uses one. */
  embeddedPort?: number;
  startedAt: string;
}

export const stateFilePath = (dataDir: string) => path.join(dataDir, 'gateway.json');

export function writeGatewayState(dataDir: string, state: GatewayState): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(stateFilePath(dataDir), JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
}

/** The state of a gateway that is still running, or undefined (no file, or its process is gone). */
export function readGatewayState(dataDir: string): GatewayState | undefined {
  const file = stateFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as GatewayState;
    return Number.isInteger(state.pid) && isAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if it is this process's. */
export function removeGatewayState(dataDir: string, pid = process.pid): void {
  const file = stateFilePath(dataDir);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as GatewayState).pid === pid) rmSync(file);
  } catch {
    // no file, or not ours
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
