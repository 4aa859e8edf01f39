import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createTokenVerifier, signToken, supportTokenSigner } from '../../src/auth/tokens';
import { createDatabase, type Database } from '../../src/db/client';
import { createSystemDatabase, type SystemDatabase } from '../../src/db/system';
import type { Role } from '../../src/generated/prisma/enums';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/yoga';
import { createDenialRecorder, type DenialRecorder } from '../../src/audit/access-denials';
import { createOrganization } from '../../src/platform/organizations';
import type { Services } from '../../src/domains/services';
import type { FileStore } from '../../src/storage/file-store';
import { createUsageRecorder, type UsageRecorder, type UsageRecorderOptions } from '../../src/usage/recorder';

/**
 * One gateway per test file, in-process (`gateway.fetch`, no port), on the
 * suite's database, connected as the runtime role. Organizations are created
 * fresh per test through the system client, so tests never share rows.
 */

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256';

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  token: string;
}

export interface TestOrganization {
  id: string;
  slug: string;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
}

export interface GraphQLResponse<TData> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface Harness {
  gateway: Gateway;
  /** The gateway's recorder of denied access (src/audit/access-denials.ts): `settled()` waits for its writes. */
  denials: DenialRecorder;
  /** The runtime database the gateway uses (its statement counter, its pool). */
  db: Database;
  /** The admin path, for fixtures and for checking what really is in the tables. */
  system: SystemDatabase;
  adminUrl: string;
  runtimeUrl: string;
  execute<TData, TVariables>(document: TypedDocumentNode<TData, TVariables> | string, options?: RequestOptions<TVariables>): Promise<GraphQLResponse<TData>>;
  /** The same request as `execute`, answered with the raw Response (its headers, its exact bytes). */
  request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables> | string, options?: RequestOptions<TVariables>): Promise<Response>;
  /**
   * The gateway's usage recorder. It has no timer and never flushes early, so
   * no usage write lands among a test's statements: tests call `flush()`.
   */
  usage: UsageRecorder;
  createOrganization(name?: string): Promise<TestOrganization>;
  createUser(organizationId: string, role: Role): Promise<TestUser>;
  /** A user listed in platform_operators, with a platform token (no organization). */
  createPlatformOperator(): Promise<TestUser>;
  token(userId: string, organizationId: string | undefined, options?: { expiresIn?: string | number; extraClaims?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export interface RequestOptions<TVariables> {
  variables?: TVariables;
  /** Which of the document's operations to run. */
  operationName?: string;
  token?: string | null;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

export function testUrls(): { adminUrl: string; runtimeUrl: string } {
  const adminUrl = process.env.TENANTGATE_TEST_ADMIN_URL;
  const runtimeUrl = process.env.TENANTGATE_TEST_RUNTIME_URL;
  if (!adminUrl || !runtimeUrl) throw new Error('The test database is not set up: run the suite with `npm test`.');
  return { adminUrl, runtimeUrl };
}

export interface HarnessOptions {
  poolSize?: number;
  /** The runtime pool's application_name in pg_stat_activity (to find this harness's sessions among other test files'). */
  applicationName?: string;
  onStatement?: (sql: string) => void;
  trustedProxies?: string[];
  now?: () => number;
  /** See DatabaseOptions.heldReads. */
  heldReads?: boolean;
  /** Options of the usage recorder over the harness's defaults (no timer, no early flush, `db.pool`). */
  usage?: Partial<UsageRecorderOptions>;
  /** Mail, DNS and HTTP for domains and invitations (test/helpers/mail-dns.ts starts real ones). */
  services?: Services;
  /** A file store (src/storage/): the harness has none unless given one. */
  files?: FileStore;
  /** Another database than the run's (test/helpers/scratch-database.ts), e.g. for rows every organization would see. */
  database?: { adminUrl: string; runtimeUrl: string };
  /** GatewayOptions.jit: compiled queries (default on), off, or on with an observer. */
  jit?: GatewayOptions['jit'];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { adminUrl, runtimeUrl } = options.database ?? testUrls();
  const db = createDatabase({ url: runtimeUrl, max: options.poolSize ?? 10, onStatement: options.onStatement, applicationName: options.applicationName, heldReads: options.heldReads });
  const system = createSystemDatabase(adminUrl);
  const usage = createUsageRecorder({ pool: db.pool, flushIntervalMs: 0, flushEveryCalls: Infinity, now: options.now, ...options.usage });
  // The harness's own recorder of denials: a test waits for its writes (denials.settled()).
  const denials = createDenialRecorder({ pool: db.pool, onError: (error) => console.error('access denials not recorded', error) });
  const gateway = createGateway({
    db,
    system,
    accessDenials: denials,
    verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
    signSupportToken: supportTokenSigner({ secret: TEST_SECRET }),
    trustedProxies: options.trustedProxies,
    now: options.now,
    logging: false,
    graphiql: false,
    usage,
    services: options.services,
    files: options.files,
    jit: options.jit,
  });

  const token: Harness['token'] = (userId, organizationId, extra = {}) =>
    signToken({ secret: TEST_SECRET, userId, organizationId, expiresIn: extra.expiresIn ?? '1h', extraClaims: extra.extraClaims });

  const request: Harness['request'] = async (document, { variables, operationName, token: bearer, headers = {}, remoteAddress = '127.0.0.1' } = {}) =>
    gateway.fetch('http://tenantgate.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables, operationName }),
    }, { req: { socket: { remoteAddress } } });

  const createUser: Harness['createUser'] = async (organizationId, role) => {
    const email = `${role.toLowerCase()}-${randomUUID()}@example.test`;
    const user = await system.prisma.user.create({ data: { email, name: `Test ${role.toLowerCase()}` } });
    await system.prisma.membership.create({ data: { organizationId, userId: user.id, role } });
    return { id: user.id, email, role, token: await token(user.id, organizationId) };
  };

  return {
    gateway,
    denials,
    db,
    system,
    adminUrl,
    runtimeUrl,
    token,
    createUser,
    async createPlatformOperator() {
      const email = `operator-${randomUUID()}@platform.test`;
      const user = await system.prisma.user.create({ data: { email, name: 'Platform Operator' } });
      await system.prisma.platformOperator.create({ data: { userId: user.id } });
      return { id: user.id, email, role: 'MEMBER', token: await token(user.id, undefined, { extraClaims: { platform: true } }) };
    },
    usage,
    request,
    async execute(document, options) {
      const response = await request(document, options);
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    async createOrganization(name = 'Test Organization') {
      const slug = `org-${randomUUID().slice(0, 8)}`;
      const org = await createOrganization(system, { slug, name });
      const [owner, admin, member] = [
        await createUser(org.id, 'OWNER'),
        await createUser(org.id, 'ADMIN'),
        await createUser(org.id, 'MEMBER'),
      ];
      return { id: org.id, slug, owner, admin, member };
    },
    async close() {
      // Closes the recorder too: what a test left pending is written while the pool is open.
      await gateway.dispose();
      await db.close();
      await system.close();
    },
  };
}

/** The codes of a response's errors, for compact assertions. */
export function errorCodes(response: GraphQLResponse<unknown>): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}

/** The global ID of an organization as the platform operator's API names it. */
export const platformId = (organizationId: string) => encodeGlobalID('PlatformOrganization', organizationId);
