import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { builtSchema, quoteIdent } from '../src/db/schemas';
import { projectGlobalId, taskGlobalId } from './scenarios';
import type { Handler } from './http-server';

/**
 * The floor the gateway is compared with: a bare graphql-yoga server with a
 * hand-written schema of the same fields, no Pothos, no Prisma, and per request
 * the least that the same isolation needs: verify the JWT (jose, HS256), then
 * BEGIN; SET LOCAL app.current_org_id; one SELECT with the owner joined; COMMIT,
 * through node-postgres as the same runtime role with the same pool size.
 * It does not check membership: that is the gateway's extra, and part of what
 * the ratio measures.
 */

export interface BaselineOptions {
  runtimeUrl: string;
  secret: string;
  /** @default 10, as the gateway's pool */
  poolSize?: number;
}

export interface Baseline {
  handler: Handler;
  /** Statements sent to PostgreSQL since start, BEGIN and COMMIT included (counted as src/db/client.ts does). */
  statementCount(): number;
  close(): Promise<void>;
}

// A type alias, not an interface: Yoga's context must be indexable as a record.
type BaselineContext = {
  organizationId: string;
};

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
  enum TaskStatus { TODO IN_PROGRESS DONE }
  type Task { id: ID! title: String! status: TaskStatus! assignee: User }
  type TaskEdge { node: Task! }
  type TaskConnection { edges: [TaskEdge!]! }
  type Query {
    tasks(first: Int): TaskConnection!
    projects(first: Int): ProjectConnection!
    project(id: ID!): Project
  }
`;

// Same order and the same index as the gateway's connection. The organization is
// named as the gateway names it: since sharing (migration 20261204150200_sharing)
// RLS alone also admits shared and public rows, and its OR defeats the index.
// Tables named with their schema: tenantgate's own, and the application's Task (src/db/schemas.ts).
const T = quoteIdent(builtSchema());
export const PAGE_SQL = `
  SELECT p.id, p.name, p.status, u.email
    FROM ${T}.projects p JOIN ${T}.users u ON u.id = p.owner_id
   WHERE p.organization_id = $2
   ORDER BY p.created_at DESC, p.id DESC
   LIMIT $1`;
// As the gateway's findUnique: by the composite primary key.
export const TASK_PAGE_SQL = `
  SELECT t.id, t.title, t.status, u.email
    FROM public.tasks t LEFT JOIN ${T}.users u ON u.id = t.assignee_id
   ORDER BY t.created_at DESC, t.id DESC
   LIMIT $1`;
const ONE_SQL = `
  SELECT p.id, p.name, p.status, u.email
    FROM ${T}.projects p JOIN ${T}.users u ON u.id = p.owner_id
   WHERE p.organization_id = $1 AND p.id = $2`;

/** The baseline's scoping statement. SECURITY: SET takes no bind parameters; the value is checked to be a UUID. */
export function baselineScope(organizationId: string): string {
  if (!UUID.test(organizationId)) throw unauthenticated('Invalid token: org is not a UUID');
  return `SET LOCAL app.current_org_id = '${organizationId}'`;
}

function toNode(row: ProjectRow) {
  return { id: projectGlobalId(row.id), name: row.name, status: row.status, owner: { email: row.email } };
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function createBaseline({ runtimeUrl, secret, poolSize = 10 }: BaselineOptions): Baseline {
  const pool = new pg.Pool({ connectionString: runtimeUrl, max: poolSize, application_name: 'tenantgate-bench-baseline' });
  let statements = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements += 1;
      return query(...args);
    };
  });
  pool.on('error', () => undefined);
  const key = new TextEncoder().encode(secret);

  async function inTenantTransaction<T>(organizationId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const scope = baselineScope(organizationId);
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(scope);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  const schema = createSchema<Record<string, unknown> & BaselineContext>({
    typeDefs,
    resolvers: {
      Query: {
        projects: (_root: unknown, args: { first?: number | null }, ctx: BaselineContext) =>
          inTenantTransaction(ctx.organizationId, async (client) => {
            const first = Math.min(Math.max(args.first ?? 20, 0), 100);
            const { rows } = await client.query<ProjectRow>(PAGE_SQL, [first, ctx.organizationId]);
            return { edges: rows.map((row) => ({ node: toNode(row) })) };
          }),
        tasks: (_root: unknown, args: { first?: number | null }, ctx: BaselineContext) =>
          inTenantTransaction(ctx.organizationId, async (client) => {
            const first = Math.min(Math.max(args.first ?? 20, 0), 100);
            const { rows } = await client.query<{ id: string; title: string; status: string; email: string | null }>(TASK_PAGE_SQL, [first]);
            return {
              edges: rows.map((row) => ({
                node: { id: taskGlobalId(row.id), title: row.title, status: row.status, assignee: row.email === null ? null : { email: row.email } },
              })),
            };
          }),
        project: (_root: unknown, args: { id: string }, ctx: BaselineContext) => {
          const [typename, id] = Buffer.from(args.id, 'base64').toString().split(':');
          if (typename !== 'Project' || !id || !UUID.test(id)) return null;
          return inTenantTransaction(ctx.organizationId, async (client) => {
            const { rows } = await client.query<ProjectRow>(ONE_SQL, [ctx.organizationId, id]);
            return rows[0] ? toNode(rows[0]) : null;
          });
        },
      },
    },
  });

  const yoga = createYoga<Record<string, unknown>, BaselineContext>({
    schema,
    logging: false,
    graphiql: false,
    landingPage: false,
    async context({ request }: YogaInitialContext): Promise<BaselineContext> {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
      if (!match) throw unauthenticated('Authentication required');
      try {
        const { payload } = await jwtVerify(match[1], key, { algorithms: ['HS256'] });
        if (typeof payload.org !== 'string') throw new Error('no org claim');
        return { organizationId: payload.org };
      } catch {
        throw unauthenticated('Invalid token');
      }
    },
  });

  return {
    handler: yoga,
    statementCount: () => statements,
    close: () => pool.end(),
  };
}
