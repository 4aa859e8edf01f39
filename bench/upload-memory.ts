/**
 * npx tsx bench/upload-memory.ts [--mb 200]
 *
 * Uploads one file of `--mb` megabytes through the gateway over HTTP (a GraphQL
 * multipart request on 127.0.0.1, no Content-Length, so nothing is known in
 * advance) and downloads it back through its signed URL, sampling the process's
 * RSS every 10 ms. Client and gateway run in this one process, so the growth
 * printed is an upper bound of the gateway's. Target: under 50 MB for 200 MB.
 * Uses a fresh database on the test server (see test/setup/database.ts), dropped
 * at the end, and a temporary directory for the local storage backend.
 */
import './env';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { createSystemDatabase } from '../src/db/system';
import { createOrganization } from '../src/platform/organizations';
import { localStorage } from '../src/storage/local';
import { createGateway } from '../src/yoga';
import { chooseTestServer, withDatabase } from '../test/setup/database';

const MB = 1024 * 1024;
const mbArg = process.argv.indexOf('--mb');
const megabytes = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 200;
const secret = randomBytes(32).toString('hex');

async function main() {
  const server = await chooseTestServer();
  const database = `tenantgate_bench_upload_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const directory = await mkdtemp(join(tmpdir(), 'tenantgate-upload-bench-'));
  const adminUrl = withDatabase(server.url, database);
  const runtimeUrl = withDatabase(server.url, database, { user: 'tenantgate_bench_upload_app', password: 'tenantgate_bench_upload_app' });
  try {
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    const system = createSystemDatabase(adminUrl);
    const org = await createOrganization(system, { slug: `bench-${Date.now()}`, name: 'Upload bench' });
    const user = await system.prisma.user.create({ data: { email: `bench-${Date.now()}@bench.test`, name: 'Bench' } });
    await system.prisma.membership.create({ data: { organizationId: org.id, userId: user.id, role: 'OWNER' } });
    await system.prisma.subscription.update({ where: { organizationId: org.id }, data: { plan: 'PRO' } });
    const token = await signToken({ secret, userId: user.id, organizationId: org.id, expiresIn: '1h' });

    const db = createDatabase({ url: runtimeUrl, max: 4 });
    const gateway = createGateway({
      db,
      verifyToken: createTokenVerifier({ secret }),
      logging: false,
      graphiql: false,
      usage: false,
      files: { backend: localStorage(join(directory, 'storage')), signingSecret: secret, urlTtlSeconds: 300, now: Date.now },
    });
    const http = createServer(gateway);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;

    const chunk = Buffer.alloc(64 * 1024, 7);
    const expected = createHash('sha256');
    for (let sent = 0; sent < megabytes * MB; sent += chunk.length) expected.update(chunk);

    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const started = performance.now();

    const boundary = 'tenantgatebench';
    const operations = JSON.stringify({ query: 'mutation U($input: UploadFileInput!) { uploadFile(input: $input) { file { size checksum download { url } } } }', variables: { input: { path: 'bench/large.bin' } } });
    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(body)).on('error', reject);
      });
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="large.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      let sent = 0;
      const pump = () => {
        while (sent < megabytes * MB) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      pump();
    });
    const uploadSeconds = (performance.now() - started) / 1000;
    const uploadPeak = peak;
    const result = JSON.parse(uploaded) as { data?: { uploadFile: { file: { size: number; checksum: string; download: { url: string } } } }; errors?: unknown };
    if (!result.data) throw new Error(`upload failed: ${uploaded}`);
    const { file } = result.data.uploadFile;

    const downloadStarted = performance.now();
    const received = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: file.download.url }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length)).on('end', () => resolve(bytes)).on('error', reject);
      }).on('error', reject).end();
    });
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;
    clearInterval(sampler);

    console.log(`upload: ${megabytes} MB in ${uploadSeconds.toFixed(1)} s, stored ${file.size} bytes, checksum ${file.checksum === expected.digest('hex') ? 'matches' : 'DIFFERS'}`);
    console.log(`download: ${received} bytes in ${downloadSeconds.toFixed(1)} s`);
    console.log(`RSS: ${(base / MB).toFixed(1)} MB before, peak ${(uploadPeak / MB).toFixed(1)} MB during the upload, ${(peak / MB).toFixed(1)} MB overall`);
    console.log(`RSS growth: ${((uploadPeak - base) / MB).toFixed(1)} MB upload, ${((peak - base) / MB).toFixed(1)} MB upload + download (target < 50 MB): ${(peak - base) / MB < 50 ? 'PASS' : 'FAIL'}`);

    await new Promise((resolve) => http.close(resolve));
    await gateway.dispose();
    await db.close();
    await system.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await rm(directory, { recursive: true, force: true });
    await server.embedded?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
