import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { builtSchema, quoteIdent } from '../src/db/schemas';
import type { Handler } from './http-server';
import { projectGlobalId } from './scenarios';

/**
 * The best a hand-written graphql-yoga + node-postgres server can do for the
 * same two queries, with the isolation that RLS gives: what the gateway has to
 * beat (issue 18), next to bench/baseline.ts (the old, plainer yardstick).
 *
 * Per request, ONE round trip: node-postgres's pipeline mode writes
 *   BEGIN READ ONLY
 *   SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true)   (named, prepared)
 *   <the page, or the project by id>                                                                   (named, prepared)
 *   COMMIT
 * back to back without waiting for an answer in between, and reads the four
 * answers as they come. The settings are set by the statement before the page,
 * so RLS reads them when the page runs (a set_config in the page's own CTE would
 * race the policy's evaluation). The connections plan on generic plans
 * (`plan_cache_mode`, as the gateway's queries do): the prepared page is
 * planned once per connection.
 *
 * Like the baseline and PostGraphile, it does not check membership, security
 * settings or quotas: that is the gateway's extra, and part of what the ratio
 * measures. The member's role and department path are set empty (the RESTRICTIVE
 * department policy then hides restricted projects; the bench dataset has none,
 * and the harness checks the answers are the gateway's).
 */

export interface BestBareOptions {
  runtimeUrl: string;
  secret: string;
  /** @default 10, as the gateway's pool */
  poolSize?: number;
}

export interface BestBare {
  handler: Handler;
  /** Statements sent to PostgreSQL since start (BEGIN, the settings, the query, COMMIT: 4 per request). */
  statementCount(): number;
  close(): Promise<void>;
}

type BestBareContext = { organizationId: string; userId: string };

interface ProjectRow {
  id: string;
  name: string;
  status: string;
  email: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const typeDefs = /* GraphQL */ `
  enum ProjectStatus { ACTIVE ARCHIVED COMPLETED }
  type User { email: String! }
  type Project { id: ID! name: String! status: ProjectStatus! owner: User! }
  type ProjectEdge { node: Project! }
  type ProjectConnection { edges: [ProjectEdge!]! }
  type Query {
    projects(first: Int): ProjectConnection!
    project(id: ID!): Project
  }
`;

const SCOPE = {
  name: 'tg_bare_scope',
  text: `SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true),
                set_config('app.current_member_role', '', true), set_config('app.current_department_path', '', true)`,
};
// Order and index as the gateway's. The organization is named, as the gateway's connection names it: with
// the sharing policies (a PUBLIC project is visible to every organization) RLS alone admits other
// organizations' public projects, and the planner cannot read the page from the ordered index (the
// baseline's SQL, without it, sorts the organization's projects).
// tenantgate's own tables, named with their schema (src/db/schemas.ts).
const T = quoteIdent(builtSchema());
export const PAGE = {
  name: 'tg_bare_page',
  text: `SELECT p.id, p.name, p.status, u.email FROM ${T}.projects p JOIN ${T}.users u ON u.id = p.owner_id
          WHERE p.organization_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2`,
};
const ONE = {
  name: 'tg_bare_one',
  text: `SELECT p.id, p.name, p.status, u.email FROM ${T}.projects p JOIN ${T}.users u ON u.id = p.owner_id
          WHERE p.organization_id = $1 AND p.id = $2`,
};

/** The settings SCOPE sets, as SET LOCALs, for EXPLAIN (bench/plans.ts). SECURITY: both values are checked to be UUIDs. */
export function bestBareScope(organizationId: string, userId: string): string {
  if (!UUID.test(organizationId) || !UUID.test(userId)) throw new Error('bestBareScope: not a UUID');
  return [
    `SET LOCAL app.current_org_id = '${organizationId}'`,
    `SET LOCAL app.current_user_id = '${userId}'`,
    `SET LOCAL app.current_member_role = ''`,
    `SET LOCAL app.current_department_path = ''`,
  ].join('; ');
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

const toNode = (row: ProjectRow) => ({ id: projectGlobalId(row.id), name: row.name, status: row.status, owner: { email: row.email } });

export function createBestBare({ runtimeUrl, secret, poolSize = 10 }: BestBareOptions): BestBare {
  const pool = new pg.Pool({
    connectionString: runtimeUrl,
    max: poolSize,
    application_name: 'tenantgate-bench-best-bare',
    // node-postgres 8.23: queries are written as they are issued, answers matched in order.
    pipeline: true,
    options: '-c plan_cache_mode=force_generic_plan',
  } as pg.PoolConfig);
  let statements = 0;
  // Counted at the driver, as the baseline counts (bench/baseline.ts).
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements += 1;
      return query(...args);
    };
  });
  pool.on('error', () => undefined);
  const key = new TextEncoder().encode(secret);

  /** One round trip: all four statements are written before the first answer is read. */
  async function scoped(ctx: BestBareContext, query: { name: string; text: string }, values: unknown[]): Promise<ProjectRow[]> {
    const client = await pool.connect();
    const begin = client.query('BEGIN READ ONLY');
    const scope = client.query({ ...SCOPE, values: [ctx.organizationId, ctx.userId] });
    const rows = client.query<ProjectRow>({ ...query, values });
    const commit = client.query('COMMIT');
    try {
      const [, , result] = await Promise.all([begin, scope, rows, commit]);
      client.release();
      return result.rows;
    } catch (error) {
      // A failed statement aborts the transaction: the COMMIT behind it rolled it back.
      // Should the connection be in doubt anyway, it is not reused.
      await Promise.allSettled([begin, scope, rows, commit]);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  const schema = createSchema<Record<string, unknown> & BestBareContext>({
    typeDefs,
    resolvers: {
      Query: {
        projects: async (_root: unknown, args: { first?: number | null }, ctx: BestBareContext) => {
          const first = Math.min(Math.max(args.first ?? 20, 0), 100);
          return { edges: (await scoped(ctx, PAGE, [ctx.organizationId, first])).map((row) => ({ node: toNode(row) })) };
        },
        project: async (_root: unknown, args: { id: string }, ctx: BestBareContext) => {
          const [typename, id] = Buffer.from(args.id, 'base64').toString().split(':');
          if (typename !== 'Project' || !id || !UUID.test(id)) return null;
          const [row] = await scoped(ctx, ONE, [ctx.organizationId, id]);
          return row ? toNode(row) : null;
        },
      },
    },
  });

  const yoga = createYoga<Record<string, unknown>, BestBareContext>({
    schema,
    logging: false,
    graphiql: false,
    landingPage: false,
    async context({ request }: YogaInitialContext): Promise<BestBareContext> {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
      if (!match) throw unauthenticated('Authentication required');
      try {
        const { payload } = await jwtVerify(match[1], key, { algorithms: ['HS256'] });
        if (typeof payload.org !== 'string' || !UUID.test(payload.org)) throw new Error('no org claim');
        if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) throw new Error('no sub claim');
        return { organizationId: payload.org.toLowerCase(), userId: payload.sub.toLowerCase() };
      } catch {
        throw unauthenticated('Invalid token');
      }
    },
  });

  return { handler: yoga, statementCount: () => statements, close: () => pool.end() };
}
