/**
 * tenantgate/testing: what a team's own tests need to prove tenant isolation.
 *
 *   const kit = await createTestKit({ adminUrl, runtimeUrl });
 *   const acme = await kit.createOrganization('Acme');
 *   await kit.withUser(acme.owner, async () => {
 *     await kit.graphql('{ tasks(first: 5) { totalCount } }');
 *     await kit.tenantDb().task.count();
 *   });
 *   isolationSuite({ connect: () => ({ adminUrl, runtimeUrl }) });
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { createTokenVerifier, signToken, supportTokenSigner } from '../auth/tokens';
import { createDatabase } from '../db/client';
import { createSystemDatabase } from '../db/system';
import { createTenantClient } from '../db/tenant';
import type { Role } from '../generated/prisma/enums';
import { createOrganization } from '../platform/organizations';
import { createUsageRecorder } from '../usage/recorder';
import { createGateway } from '../yoga';
import { checkIsolation, type IsolationOptions } from './isolation';
import { datamodel as schemaDatamodel } from '../generated/tenancy-datamodel';
import { readTenancy } from '../tenancy/model';
import { tenantModelSurfaces } from '../tenancy/tenant-model';

export { checkIsolation, type IsolationCheck, type IsolationOptions } from './isolation';

export interface TestUser {
  id: string;
  email: string;
  organizationId: string;
  role: Role;
  departmentId: string | null;
  token: string;
}

export interface TestOrganizationHandle {
  id: string;
  slug: string;
  owner: TestUser;
}

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestKit {
  /** An organization (FREE plan) with its owner, in one call. */
  createOrganization(name?: string): Promise<TestOrganizationHandle>;
  /** A user who is a member of `organization` with `role` (MEMBER by default), optionally in a department. */
  createUser(organization: { id: string }, role?: Role, options?: { departmentId?: string }): Promise<TestUser>;
  /**
   * Runs `fn` as `user` in the user's organization: `graphql` and `tenantDb` inside
   * it act as that user. Nests: an inner withUser sees only its own organization,
   * and the outer user is current again when it returns.
   */
  withUser<T>(user: TestUser, fn: () => Promise<T>): Promise<T>;
  /** A TestUser for an existing membership (e.g. of rows made elsewhere), with a token. */
  userOf(organizationId: string, userId: string): Promise<TestUser>;
  /** The current user (withUser), or null outside any. */
  currentUser(): TestUser | null;
  /** A GraphQL operation as the current user (anonymous outside withUser), in process: no port. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>>;
  /** The tenant client, scoped by RLS to the current user's organization, role and department. */
  tenantDb(): ReturnType<typeof createTenantClient>;
  close(): Promise<void>;
}

export async function createTestKit(options: { adminUrl: string; runtimeUrl: string }): Promise<TestKit> {
  const secret = randomBytes(32).toString('hex');
  const db = createDatabase({ url: options.runtimeUrl, max: 4 });
  const system = createSystemDatabase(options.adminUrl);
  const usage = createUsageRecorder({ pool: db.pool, flushIntervalMs: 0, flushEveryCalls: Infinity });
  const gateway = createGateway({
    db,
    system,
    verifyToken: createTokenVerifier({ secret }),
    signSupportToken: supportTokenSigner({ secret }),
    logging: false,
    graphiql: false,
    usage,
  });
  const current = new AsyncLocalStorage<TestUser>();
  const departmentPaths = new Map<string, string[]>();

  const createUser: TestKit['createUser'] = async (organization, role = 'MEMBER', { departmentId } = {}) => {
    const email = `${role.toLowerCase()}-${randomUUID()}@example.test`;
    const user = await system.prisma.user.create({ data: { email, name: `Test ${role.toLowerCase()}` } });
    await system.prisma.membership.create({ data: { organizationId: organization.id, userId: user.id, role, departmentId: departmentId ?? null } });
    const token = await signToken({ secret, userId: user.id, organizationId: organization.id, expiresIn: '1h' });
    return { id: user.id, email, organizationId: organization.id, role, departmentId: departmentId ?? null, token };
  };

  async function departmentPath(user: TestUser): Promise<string[]> {
    if (!user.departmentId) return [];
    if (!departmentPaths.has(user.departmentId)) {
      const rows = await system.prisma.$queryRaw<{ id: string }[]>`
        WITH RECURSIVE up AS (
          SELECT id, parent_id FROM departments WHERE organization_id = ${user.organizationId}::uuid AND id = ${user.departmentId}::uuid
          UNION ALL SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id AND d.organization_id = ${user.organizationId}::uuid)
        SELECT id::text FROM up`;
      departmentPaths.set(user.departmentId, rows.map((r) => r.id));
    }
    return departmentPaths.get(user.departmentId)!;
  }
  const scopes = new WeakMap<TestUser, string[]>();

  return {
    async createOrganization(name = 'Test Organization') {
      const slug = `org-${randomUUID().slice(0, 8)}`;
      const org = await createOrganization(system, { slug, name });
      return { id: org.id, slug, owner: await createUser(org, 'OWNER') };
    },
    createUser,
    async userOf(organizationId, userId) {
      const membership = await system.prisma.membership.findUniqueOrThrow({ where: { organizationId_userId: { organizationId, userId } }, include: { user: true } });
      const token = await signToken({ secret, userId, organizationId, expiresIn: '1h' });
      return { id: userId, email: membership.user.email, organizationId, role: membership.role, departmentId: membership.departmentId, token };
    },
    async withUser(user, fn) {
      scopes.set(user, await departmentPath(user));
      return current.run(user, fn);
    },
    currentUser: () => current.getStore() ?? null,
    async graphql(query, variables) {
      const user = current.getStore();
      const response = await gateway.fetch('http://tenantgate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(user ? { authorization: `Bearer ${user.token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      }, { req: { socket: { remoteAddress: '127.0.0.1' } } });
      return (await response.json()) as GraphQLResult<never>;
    },
    tenantDb() {
      const user = current.getStore();
      return createTenantClient(db.prisma, {
        organizationId: user?.organizationId ?? null,
        userId: user?.id ?? null,
        role: user?.role ?? null,
        departmentPath: user ? scopes.get(user) ?? [] : [],
      });
    },
    async close() {
      await gateway.dispose();
      await db.close();
      await system.close();
    },
  };
}

/**
 * The generated isolation suite (src/testing/isolation.ts) as jest tests: one
 * test per tenant model of the schema, found from the DMMF, so a new model is
 * covered without a line of test code.
 */
export function isolationSuite(options: Omit<IsolationOptions, 'adminUrl' | 'runtimeUrl' | 'graphql' | 'surfaces'> & { connect: () => { adminUrl: string; runtimeUrl: string } }): void {
  const tenancy = readTenancy(options.datamodel ?? schemaDatamodel);
  describe('tenant isolation, for every tenant model of the schema', () => {
    let results: Awaited<ReturnType<typeof checkIsolation>> = [];
    beforeAll(async () => {
      const urls = options.connect();
      // Through the API too, for the models built with tenantModel (registered when the schema is built).
      const kit = await createTestKit(urls);
      try {
        results = await checkIsolation({
          ...options,
          ...urls,
          surfaces: tenantModelSurfaces,
          graphql: async (as, query, variables) => kit.withUser(await kit.userOf(as.organizationId, as.userId), () => kit.graphql(query, variables)),
        });
      } finally {
        await kit.close();
      }
    }, 120_000);
    const elsewhere = options.provenElsewhere ?? {};
    it('covers every tenant model', () => {
      expect([...new Set(results.map((r) => r.model))].sort()).toEqual(tenancy.tenant.map((m) => m.name).filter((name) => !elsewhere[name]).sort());
    });
    for (const [name, where] of Object.entries(elsewhere)) {
      it(`${name}: proven elsewhere (${where})`, () => expect(tenancy.tenant.some((m) => m.name === name)).toBe(true));
    }
    for (const model of tenancy.tenant.filter((m) => !elsewhere[m.name])) {
      it(`${model.name}: lists, get by key, update, delete and inserts never cross organizations`, () => {
        const mine = results.filter((r) => r.model === model.name);
        expect(mine.filter((r) => r.failure)).toEqual([]);
        // rows visible, key lookup, update, delete, foreign insert: at least these five held.
        expect(mine.length).toBeGreaterThanOrEqual(5);
        // A model built with tenantModel is checked through GraphQL too.
        const api = mine.filter((r) => r.check.startsWith('GraphQL:')).length;
        if (tenantModelSurfaces.some((m) => m.name === model.name)) expect(api).toBeGreaterThanOrEqual(4);
        else expect(api).toBe(0);
      });
    }
  });
}
