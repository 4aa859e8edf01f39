import { createHash } from 'node:crypto';
import { errorCodes, startHarness, type GraphQLResponse, type Harness, type TestOrganization } from './helpers/harness';
import { generatedBytes, multipartRequest, startStorage, testFileStore, type BackendKind, type TestStorage } from './helpers/storage';
import { objectKey } from '../src/storage/paths';
import { removeOrganizationFiles } from '../src/storage/organization-files';

/**
 * Per-organization files through the GraphQL endpoint, on both backends (a
 * directory and a real S3-compatible server): multipart upload, list, signed
 * download and its expiry, other organizations' tokens and URLs, path tricks,
 * the STORAGE quota under concurrent uploads, plan limits before the body is
 * read, bandwidth, and memory while a large file streams.
 */

const UPLOAD = `mutation Upload($input: UploadFileInput!) { uploadFile(input: $input) { file { path size contentType checksum download { url expiresAt } } } }`;
const FILE = `query File($path: String!) { file(path: $path) { path size contentType checksum createdAt updatedAt download { url expiresAt } } }`;
const FILES = `query Files($first: Int, $after: String, $prefix: String) { files(first: $first, after: $after, prefix: $prefix) { edges { cursor node { path size } } pageInfo { hasNextPage endCursor } } }`;
const DELETE = `mutation Delete($input: DeleteFileInput!) { deleteFile(input: $input) { deletedPath } }`;
const QUOTAS = `query { organization { quotas { resource limit used remaining } } }`;
const USAGE = `query { usage(period: { preset: CURRENT_MONTH }) { storage bandwidth } }`;

interface FileNode { path: string; size: number; contentType: string; checksum: string; download: { url: string; expiresAt: string } }

const GB = 1024 ** 3;
const MB = 1024 ** 2;

describe.each<BackendKind>(['local', 's3'])('files on the %s backend', (kind) => {
  let h: Harness;
  let storage: TestStorage;
  const clock = { now: Date.now() };
  let acme: TestOrganization;
  let globex: TestOrganization;
  let initech: TestOrganization;

  beforeAll(async () => {
    storage = await startStorage(kind);
    h = await startHarness({ files: testFileStore(storage.backend, clock) });
  });
  afterAll(async () => {
    await h.close();
    await storage.close();
  });
  beforeEach(async () => {
    clock.now = Date.now();
    [acme, globex, initech] = [await h.createOrganization('Acme'), await h.createOrganization('Globex'), await h.createOrganization('Initech')];
  });

  async function upload(token: string, path: string, content: Uint8Array | Iterable<Uint8Array>, options: { size?: number; declareLength?: boolean; length?: number; contentType?: string } = {}) {
    const chunks = content instanceof Uint8Array ? [content] : content;
    const fileBytes = content instanceof Uint8Array ? content.byteLength : options.length;
    const request = multipartRequest({
      query: UPLOAD,
      variables: { input: { path, ...(options.size !== undefined ? { size: options.size } : {}) } },
      fileVariable: 'input.file',
      contentType: options.contentType ?? 'text/plain',
      chunks,
      fileBytes: options.declareLength === false ? undefined : fileBytes,
    });
    const response = await h.gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: { ...request.headers, authorization: `Bearer ${token}`, accept: 'application/graphql-response+json, application/json' },
      body: request.body,
      duplex: 'half',
    } as RequestInit);
    const body = (await response.json()) as Omit<GraphQLResponse<{ uploadFile: { file: FileNode } }>, 'status'>;
    return { status: response.status, ...body, pulled: request.pulled() };
  }

  const text = (s: string) => new TextEncoder().encode(s);
  const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
  const file = (token: string, path: string) => h.execute<{ file: FileNode | null }, { path: string }>(FILE, { token, variables: { path } });
  const download = (url: string) => h.gateway.fetch(`http://tenantgate.test${url}`);

  it('uploads, lists by prefix and page, describes and downloads through a signed URL; other organizations see nothing', async () => {
    const uploaded = await upload(acme.member.token, 'reports/2026/q4.txt', text('hello, acme'));
    expect(uploaded.errors).toBeUndefined();
    expect(uploaded.data!.uploadFile.file).toMatchObject({ path: 'reports/2026/q4.txt', size: 11, contentType: 'text/plain', checksum: sha256('hello, acme') });
    for (const path of ['reports/2026/q1.txt', 'reports_x.txt', 'notes.txt']) expect((await upload(acme.member.token, path, text(path))).errors).toBeUndefined();

    // Stored at organizations/<organization id>/files/<path> in the backend.
    const stored = await storage.backend.get(objectKey(acme.id, 'reports/2026/q4.txt'));
    expect(stored).not.toBeNull();
    stored!.destroy();

    const all = await h.execute<{ files: { edges: { node: { path: string; size: number } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }, object>(FILES, { token: acme.member.token, variables: { first: 3 } });
    expect(all.data!.files.edges.map((e) => e.node.path)).toEqual(['notes.txt', 'reports/2026/q1.txt', 'reports/2026/q4.txt']);
    expect(all.data!.files.pageInfo.hasNextPage).toBe(true);
    const next = await h.execute<{ files: { edges: { node: { path: string } }[] } }, object>(FILES, { token: acme.member.token, variables: { first: 3, after: all.data!.files.pageInfo.endCursor } });
    expect(next.data!.files.edges.map((e) => e.node.path)).toEqual(['reports_x.txt']);
    // "reports/" is a prefix, not a pattern: reports_x.txt is not under it.
    const prefixed = await h.execute<{ files: { edges: { node: { path: string } }[] } }, object>(FILES, { token: acme.member.token, variables: { prefix: 'reports/' } });
    expect(prefixed.data!.files.edges.map((e) => e.node.path)).toEqual(['reports/2026/q1.txt', 'reports/2026/q4.txt']);

    const described = await file(acme.owner.token, 'reports/2026/q4.txt');
    expect(described.data!.file).toMatchObject({ path: 'reports/2026/q4.txt', size: 11, checksum: sha256('hello, acme') });
    const { url, expiresAt } = described.data!.file!.download;
    expect(new Date(expiresAt).getTime()).toBe(Math.floor(clock.now / 1000) * 1000 + 300_000);
    const got = await download(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('text/plain');
    expect(await got.text()).toBe('hello, acme');

    // Other organizations: nothing by path, nothing in their lists, nothing to delete.
    for (const other of [globex, initech]) {
      expect((await file(other.owner.token, 'reports/2026/q4.txt')).data).toEqual({ file: null });
      const theirs = await h.execute<{ files: { edges: unknown[] } }, object>(FILES, { token: other.owner.token, variables: {} });
      expect(theirs.data!.files.edges).toEqual([]);
      const deleted = await h.execute(DELETE, { token: other.owner.token, variables: { input: { path: 'reports/2026/q4.txt' } } });
      expect(errorCodes(deleted)).toEqual(['NOT_FOUND']);
    }
    // The same path in another organization is another file.
    expect((await upload(globex.member.token, 'reports/2026/q4.txt', text('globex'))).errors).toBeUndefined();
    expect(await (await download((await file(globex.member.token, 'reports/2026/q4.txt')).data!.file!.download.url)).text()).toBe('globex');
    expect(await (await download(url)).text()).toBe('hello, acme');
  });

  it('refuses a forged, altered or expired URL, and one whose file is gone', async () => {
    await upload(acme.member.token, 'secret.txt', text('acme secret'));
    await upload(globex.member.token, 'mine.txt', text('globex'));
    const { url } = (await file(acme.member.token, 'secret.txt')).data!.file!.download;
    const parsed = new URL(url, 'http://tenantgate.test');

    // Another organization's id in the URL, with acme's signature: refused.
    const swapped = new URL(parsed);
    swapped.pathname = parsed.pathname.replace(acme.id, globex.id);
    expect((await download(swapped.pathname + swapped.search)).status).toBe(403);
    // globex's own URL with acme's path: refused.
    const globexUrl = new URL((await file(globex.member.token, 'mine.txt')).data!.file!.download.url, 'http://tenantgate.test');
    const guessed = new URL(globexUrl);
    guessed.pathname = `/files/${acme.id}/secret.txt`;
    expect((await download(guessed.pathname + guessed.search)).status).toBe(403);
    // A guessed signature, a later expiry, no signature.
    for (const [name, value] of [['signature', '0'.repeat(64)], ['expires', String(Number(parsed.searchParams.get('expires')) + 3600)], ['signature', '']] as const) {
      const altered = new URL(parsed);
      altered.searchParams.set(name, value);
      expect((await download(altered.pathname + altered.search)).status).toBe(403);
    }
    // Path tricks in the URL: encoded slash and dots, traversal.
    for (const trick of [`/files/${acme.id}/..%2F..%2Fsecret.txt`, `/files/${acme.id}/%2E%2E/secret.txt`, `/files/${acme.id}/a%2Fsecret.txt`, `/files/${acme.id}/%00`]) {
      expect((await download(trick + parsed.search)).status).toBe(404);
    }

    expect((await download(url)).status).toBe(200);
    clock.now += 301_000;
    const expired = await download(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/expired/);

    clock.now -= 301_000;
    expect((await h.execute(DELETE, { token: acme.member.token, variables: { input: { path: 'secret.txt' } } })).errors).toBeUndefined();
    expect((await download(url)).status).toBe(404);
    expect(await storage.backend.get(objectKey(acme.id, 'secret.txt'))).toBeNull();
  });

  it('refuses every path trick with BAD_USER_INPUT, on upload, file and deleteFile', async () => {
    const tricks = ['../escape.txt', 'a/../../b', 'a/./b', '/etc/passwd', 'a%2F..%2Fb', '%2e%2e/x', 'a\\..\\b', 'a\u0000b', 'a//b', 'dir/', '', 'x'.repeat(901), `${'y'.repeat(256)}/z`, 'a\nb'];
    for (const path of tricks) {
      const uploaded = await upload(acme.member.token, path, text('x'));
      expect([path, errorCodes(uploaded)]).toEqual([path, ['BAD_USER_INPUT']]);
      expect([path, errorCodes(await file(acme.member.token, path))]).toEqual([path, ['BAD_USER_INPUT']]);
      expect([path, errorCodes(await h.execute(DELETE, { token: acme.member.token, variables: { input: { path } } }))]).toEqual([path, ['BAD_USER_INPUT']]);
    }
    expect(await h.system.prisma.storedFile.count({ where: { organizationId: acme.id } })).toBe(0);
    // Long but legal: 900 bytes in segments of 255 at most.
    const longest = Array.from({ length: 4 }, (_, i) => String(i).repeat(224)).join('/');
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(900);
    expect((await upload(acme.member.token, longest, text('deep'))).errors).toBeUndefined();
  });

  it('refuses a path in use (ALREADY_EXISTS) until the file is deleted', async () => {
    expect((await upload(acme.member.token, 'a.txt', text('one'))).errors).toBeUndefined();
    expect(errorCodes(await upload(acme.member.token, 'a.txt', text('two')))).toEqual(['ALREADY_EXISTS']);
    expect((await h.execute(DELETE, { token: acme.member.token, variables: { input: { path: 'a.txt' } } })).errors).toBeUndefined();
    expect((await upload(acme.member.token, 'a.txt', text('two'))).errors).toBeUndefined();
    expect(await (await download((await file(acme.member.token, 'a.txt')).data!.file!.download.url)).text()).toBe('two');
  });

  it('reports real bytes in organization.quotas and usage.storage, counts downloads as bandwidth', async () => {
    await upload(acme.member.token, 'one.bin', new Uint8Array(1000));
    await upload(acme.member.token, 'two.bin', new Uint8Array(2500));
    const quotas = async () => ((await h.execute<{ organization: { quotas: { resource: string; used: number; limit: number }[] } }, object>(QUOTAS, { token: acme.member.token })).data!.organization.quotas.find((q) => q.resource === 'STORAGE'));
    expect(await quotas()).toEqual({ resource: 'STORAGE', limit: GB, used: 3500, remaining: GB - 3500 });
    const usage = async (org: TestOrganization) => (await h.execute<{ usage: { storage: number; bandwidth: number } }, object>(USAGE, { token: org.member.token })).data!.usage;
    expect((await usage(acme)).storage).toBe(3500);
    expect((await usage(globex)).storage).toBe(0);

    await h.usage.flush();
    const before = (await usage(acme)).bandwidth;
    const body = await (await download((await file(acme.member.token, 'two.bin')).data!.file!.download.url)).arrayBuffer();
    expect(body.byteLength).toBe(2500);
    await h.usage.flush();
    // The download's 2,500 bytes, plus the responses of the GraphQL requests in between.
    const after = (await usage(acme)).bandwidth;
    expect(after - before).toBeGreaterThanOrEqual(2500);
    const rows = await h.system.prisma.usageDaily.findMany({ where: { organizationId: globex.id } });
    expect(rows.reduce((sum, r) => sum + Number(r.bandwidthBytes), 0)).toBeLessThan(2500);

    await h.execute(DELETE, { token: acme.member.token, variables: { input: { path: 'two.bin' } } });
    expect(await quotas()).toMatchObject({ used: 1000 });
  });

  it('never lets concurrent uploads of a 1 GB FREE organization exceed its quota', async () => {
    // 10,000 bytes of room left; 12 uploads of 1,500 bytes at once, half of them with no declared size.
    await h.system.prisma.storageUsage.upsert({ where: { organizationId: acme.id }, create: { organizationId: acme.id, bytes: BigInt(GB - 10_000) }, update: { bytes: BigInt(GB - 10_000) } });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => upload(acme.member.token, `race/${i}.bin`, new Uint8Array(1500), i % 2 ? { size: 1500 } : { declareLength: false })),
    );
    const succeeded = results.filter((r) => !r.errors).length;
    expect(results.filter((r) => r.errors).every((r) => errorCodes(r)[0] === 'QUOTA_EXCEEDED')).toBe(true);
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(succeeded).toBeLessThanOrEqual(6);
    const usage = await h.system.prisma.storageUsage.findUniqueOrThrow({ where: { organizationId: acme.id } });
    expect(Number(usage.bytes)).toBeLessThanOrEqual(GB);
    // What storage_usage says is what the files hold: no reservation left behind.
    const files = await h.system.prisma.storedFile.findMany({ where: { organizationId: acme.id } });
    expect(files.every((f) => f.status === 'READY')).toBe(true);
    expect(Number(usage.bytes)).toBe(GB - 10_000 + files.reduce((sum, f) => sum + Number(f.size), 0));
    expect(files.length).toBe(succeeded);
  });

  it("checks the plan's file limit before reading the body when the size is declared, and while streaming when it is not", async () => {
    // FREE: 100 MB per file. Declared in the input, or by Content-Length: refused with the file unread.
    const declared = await upload(acme.member.token, 'big.bin', generatedBytes(150 * MB), { size: 150 * MB });
    expect(errorCodes(declared)).toEqual(['FILE_TOO_LARGE']);
    expect(declared.pulled).toBeLessThan(4 * MB);
    const byLength = await upload(acme.member.token, 'big.bin', generatedBytes(150 * MB), { length: 150 * MB });
    expect(errorCodes(byLength)).toEqual(['FILE_TOO_LARGE']);
    expect(byLength.pulled).toBeLessThan(4 * MB);
    // Undeclared: stopped once past the limit, nothing kept.
    const streamed = await upload(acme.member.token, 'big.bin', generatedBytes(101 * MB), { declareLength: false });
    expect(errorCodes(streamed)).toEqual(['FILE_TOO_LARGE']);
    expect(await h.system.prisma.storedFile.count({ where: { organizationId: acme.id } })).toBe(0);
    expect(await storage.backend.get(objectKey(acme.id, 'big.bin'))).toBeNull();
    // A size that is not the file's.
    expect(errorCodes(await upload(acme.member.token, 'small.bin', new Uint8Array(10), { size: 5 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await upload(acme.member.token, 'small.bin', new Uint8Array(10), { size: 50 }))).toEqual(['BAD_USER_INPUT']);
  });

  it('streams: a 100 MB upload and its download grow the RSS by less than 50 MB', async () => {
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { plan: 'PRO' } });
    const size = 100 * MB;
    const expected = createHash('sha256');
    for (const chunk of generatedBytes(size)) expected.update(chunk);
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const uploaded = await upload(acme.member.token, 'large.bin', generatedBytes(size), { declareLength: false });
      expect(uploaded.errors).toBeUndefined();
      expect(uploaded.data!.uploadFile.file).toMatchObject({ size, checksum: expected.digest('hex') });
      const response = await download(uploaded.data!.uploadFile.file.download.url);
      let received = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) received += chunk.byteLength;
      expect(received).toBe(size);
    } finally {
      clearInterval(sampler);
    }
    expect((peak - base) / MB).toBeLessThan(50);
  });

  it("removes an organization's objects, and only its own, when its data is deleted", async () => {
    await upload(acme.member.token, 'a/one.txt', text('1'));
    await upload(acme.member.token, 'two.txt', text('2'));
    await upload(globex.member.token, 'two.txt', text('g'));
    await removeOrganizationFiles(storage.backend, acme.id);
    expect(await storage.backend.get(objectKey(acme.id, 'a/one.txt'))).toBeNull();
    expect(await storage.backend.get(objectKey(acme.id, 'two.txt'))).toBeNull();
    const kept = await storage.backend.get(objectKey(globex.id, 'two.txt'));
    expect(kept).not.toBeNull();
    kept!.destroy();
  });
});
