/**
 * The two GraphQL requests under load, and how a response to each is checked.
 * Shared by the load generator (a worker thread) and the main thread's
 * equivalence check, so both judge responses the same way.
 */

export type ScenarioName = 'projects' | 'project' | 'tasks' | 'projects-all';

/** One organization's credentials, as the load generator sees them. */
export interface TokenEntry {
  organizationId: string;
  token: string;
  /** Edges a `projects(first: 20)` page must have for this organization. */
  expectedPageSize: number;
  /** Relay global ids of some of its projects. */
  projectGlobalIds: string[];
}

export interface GraphQLRequestBody {
  query: string;
  variables?: Record<string, unknown>;
}

export interface Scenario {
  name: ScenarioName;
  /** For tables. */
  title: string;
  query: string;
  /** The request for this entry; `pick` draws a random index below n. */
  body(entry: TokenEntry, pick: (n: number) => number): GraphQLRequestBody;
  /** Why the response is not the one expected, or null when it is. */
  check(entry: TokenEntry, request: GraphQLRequestBody, response: unknown): string | null;
  /** Measured on the gateway only: the baseline has no equivalent (sharing). */
  gatewayOnly?: boolean;
}

interface NodeShape {
  id?: unknown;
  name?: unknown;
  status?: unknown;
  owner?: { email?: unknown } | null;
}

function checkNode(node: NodeShape | null | undefined): string | null {
  if (!node || typeof node !== 'object') return 'node missing';
  if (typeof node.id !== 'string' || typeof node.name !== 'string' || typeof node.status !== 'string') return 'node fields missing';
  if (!node.owner || typeof node.owner.email !== 'string') return 'owner.email missing';
  return null;
}

function dataOf(response: unknown): Record<string, unknown> | string {
  if (!response || typeof response !== 'object') return 'body is not a JSON object';
  const { data, errors } = response as { data?: Record<string, unknown> | null; errors?: unknown[] };
  if (errors && errors.length > 0) return 'graphql-errors';
  if (!data) return 'no data';
  return data;
}

// The worked example of a model of one's own (tenantModel('Task')): one task per project in the bench dataset, assigned to its owner.
const TASKS_QUERY = 'query { tasks(first: 20) { edges { node { id title status assignee { email } } } } }';
const PROJECTS_QUERY = 'query { projects(first: 20) { edges { node { id name status owner { email } } } } }';
const PROJECT_QUERY = 'query($id: ID!) { project(id: $id) { id name status owner { email } } }';
// Sharing (docs/adr/0052): the organization's own projects, those shared with it and the public ones, merged newest first.
const PROJECTS_ALL_QUERY = 'query { projects(first: 20, scope: ALL) { edges { node { id name status ownerOrganization { slug } viewerPermissions } } } }';

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  projects: {
    name: 'projects',
    title: 'projects(first: 20)',
    query: PROJECTS_QUERY,
    body() {
      return { query: PROJECTS_QUERY };
    },
    check(entry, _request, response) {
      const data = dataOf(response);
      if (typeof data === 'string') return data;
      const edges = (data.projects as { edges?: { node?: NodeShape }[] } | null)?.edges;
      if (!Array.isArray(edges)) return 'projects.edges missing';
      if (edges.length !== entry.expectedPageSize) return `expected ${entry.expectedPageSize} edges, got ${edges.length}`;
      for (const edge of edges) {
        const problem = checkNode(edge.node);
        if (problem) return problem;
      }
      return null;
    },
  },
  tasks: {
    name: 'tasks',
    title: 'tasks(first: 20)',
    query: TASKS_QUERY,
    body() {
      return { query: TASKS_QUERY };
    },
    check(entry, _request, response) {
      const data = dataOf(response);
      if (typeof data === 'string') return data;
      const edges = (data.tasks as { edges?: { node?: { id?: unknown; title?: unknown; assignee?: { email?: unknown } | null } }[] } | null)?.edges;
      if (!Array.isArray(edges)) return 'tasks.edges missing';
      if (edges.length !== entry.expectedPageSize) return `expected ${entry.expectedPageSize} edges, got ${edges.length}`;
      for (const { node } of edges) {
        if (!node || typeof node.id !== 'string' || typeof node.title !== 'string') return 'task fields missing';
        if (!node.assignee || typeof node.assignee.email !== 'string') return 'assignee.email missing';
      }
      return null;
    },
  },
  'projects-all': {
    name: 'projects-all',
    title: 'projects(scope: ALL)',
    query: PROJECTS_ALL_QUERY,
    gatewayOnly: true,
    body() {
      return { query: PROJECTS_ALL_QUERY };
    },
    check(entry, _request, response) {
      const data = dataOf(response);
      if (typeof data === 'string') return data;
      const edges = (data.projects as { edges?: { node?: { id?: unknown; name?: unknown; ownerOrganization?: { slug?: unknown } | null; viewerPermissions?: unknown } }[] } | null)?.edges;
      if (!Array.isArray(edges)) return 'projects.edges missing';
      // Own projects alone fill a page of 20 when the organization has 20; shared and public ones only add to it.
      if (edges.length !== 20 && edges.length < entry.expectedPageSize) return `expected ${entry.expectedPageSize} edges at least, got ${edges.length}`;
      for (const { node } of edges) {
        if (!node || typeof node.id !== 'string' || typeof node.name !== 'string') return 'project fields missing';
        if (!node.ownerOrganization || typeof node.ownerOrganization.slug !== 'string') return 'ownerOrganization.slug missing';
        if (!Array.isArray(node.viewerPermissions) || !node.viewerPermissions.includes('READ')) return 'viewerPermissions without READ';
      }
      return null;
    },
  },
  project: {
    name: 'project',
    title: 'project(id:)',
    query: PROJECT_QUERY,
    body(entry, pick) {
      return { query: PROJECT_QUERY, variables: { id: entry.projectGlobalIds[pick(entry.projectGlobalIds.length)] } };
    },
    check(_entry, request, response) {
      const data = dataOf(response);
      if (typeof data === 'string') return data;
      const project = data.project as NodeShape | null;
      // null would mean the id was not found in the token's organization: the sample is wrong, or isolation is.
      if (!project) return 'project is null';
      if (project.id !== request.variables?.id) return 'project id differs from the one asked for';
      return checkNode(project);
    },
  },
};

/** Relay global id, as @pothos/plugin-relay's encodeGlobalID makes it (kept here so the worker needs no Pothos). */
export function projectGlobalId(rowId: string): string {
  return Buffer.from(`Project:${rowId}`).toString('base64');
}

export function taskGlobalId(rowId: string): string {
  return Buffer.from(`Task:${rowId}`).toString('base64');
}

/**
 * How a server spells the requests. The gateway, the baseline and the best bare
 * server share the gateway's schema; PostGraphile has its own (bench/peers/
 * postgraphile-server.mjs): the same rows asked for in its words, and its answer
 * mapped back to the gateway's shape before it is checked or compared.
 */
export type Dialect = 'tenantgate' | 'postgraphile';

// The organization named as the gateway's connection names it: with the sharing policies (a PUBLIC project is
// visible to every organization), RLS alone would admit other organizations' public projects and give the
// planner no ordered index to read the page from.
const PGL_PROJECTS_QUERY =
  'query($org: UUID!) { allProjects(first: 20, condition: { organizationId: $org }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { nodes { rowId name status owner { email } } } }';
const PGL_PROJECT_QUERY =
  'query($org: UUID!, $id: UUID!) { projectByOrganizationIdAndRowId(organizationId: $org, rowId: $id) { rowId name status owner { email } } }';

/** Which scenarios a server answers (PostGraphile and the best bare server: the projects page and one project). */
export function serves(server: string, scenario: ScenarioName): boolean {
  if (SCENARIOS[scenario].gatewayOnly) return server.startsWith('gateway');
  return scenario !== 'tasks' || !['postgraphile', 'best-bare'].includes(server);
}

export function dialectOf(server: string): Dialect {
  return server === 'postgraphile' ? 'postgraphile' : 'tenantgate';
}

/** The request to send for a request in the gateway's words. */
export function inDialect(dialect: Dialect, scenario: ScenarioName, entry: TokenEntry, body: GraphQLRequestBody): GraphQLRequestBody {
  if (dialect === 'tenantgate') return body;
  if (scenario === 'projects') return { query: PGL_PROJECTS_QUERY, variables: { org: entry.organizationId } };
  if (scenario === 'project') {
    const [, rowId] = Buffer.from(String(body.variables?.id), 'base64').toString().split(':');
    return { query: PGL_PROJECT_QUERY, variables: { org: entry.organizationId, id: rowId } };
  }
  throw new Error(`${dialect} does not serve ${scenario}`);
}

interface PostGraphileNode {
  rowId: string;
  name: unknown;
  status: unknown;
  owner: { email?: unknown } | null;
}

const fromPostGraphile = (node: PostGraphileNode | null) =>
  node && { id: typeof node.rowId === 'string' ? projectGlobalId(node.rowId) : node.rowId, name: node.name, status: node.status, owner: node.owner };

/** A response in the gateway's shape (the same rows, the same field order), to check and compare. */
export function normalizeResponse(dialect: Dialect, scenario: ScenarioName, response: unknown): unknown {
  if (dialect === 'tenantgate' || !response || typeof response !== 'object') return response;
  const { data, errors } = response as { data?: Record<string, unknown> | null; errors?: unknown[] };
  if (errors || !data) return response;
  if (scenario === 'projects') {
    const nodes = (data.allProjects as { nodes?: PostGraphileNode[] } | null)?.nodes;
    return { data: { projects: Array.isArray(nodes) ? { edges: nodes.map((node) => ({ node: fromPostGraphile(node) })) } : null } };
  }
  if (scenario === 'project') return { data: { project: fromPostGraphile(data.projectByOrganizationIdAndRowId as PostGraphileNode | null) } };
  return response;
}
