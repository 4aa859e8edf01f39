import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The embedded PostgreSQL runs in a process group of its own: Ctrl-C in a
 * terminal signals the whole foreground group, and PostgreSQL then shut down
 * before the gateway's last usage flush (issue 13). Now only the gateway stops
 * it, after its last writes (src/server.ts).
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const execFileAsync = promisify(execFile);

it('starts PostgreSQL outside the gateway\'s process group, and stops it when asked', async () => {
  // Under /tmp and enterable by the `postgres` OS user, which runs the server when the tests run as root.
  const dataDir = mkdtempSync('/tmp/tenantgate-embedded-');
  chmodSync(dataDir, 0o755);
  try {
    const script = path.join(__dirname, 'helpers', 'embedded-process-group.ts');
    const { stdout } = await execFileAsync(path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [script, dataDir, String(await freePort())]);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { postgresGroup: string; ownGroup: string; stopped: boolean };
    expect(result.postgresGroup).toMatch(/^\d+$/);
    expect(result.postgresGroup).not.toBe(result.ownGroup);
    expect(result.stopped).toBe(true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
