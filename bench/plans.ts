import pg from 'pg';

/**
 * Query plans of the SQL the gateway really sends (captured at the driver), run
 * the way the gateway runs them: as the runtime role, inside a transaction that
 * has SET LOCAL the organization, so RLS's predicate takes part in planning.
 */

export interface CapturedStatement {
  text: string;
  values: unknown[];
}

export interface StatementRecorder {
  /** Wraps `query` of each connection the pool opens from now on: attach it before the pool's first query. */
  attach(pool: pg.Pool): void;
  /** Records every statement from now on, until `stop()`. */
  start(): void;
  stop(): CapturedStatement[];
}

/**
 * Captures statement texts and values at the driver. It sits on top of the
 * statement counter of src/db/client.ts and costs one test per statement while
 * not recording.
 */
export function recordStatements(): StatementRecorder {
  let recording: CapturedStatement[] | null = null;
  return {
    attach(pool) {
      pool.on('connect', (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          if (recording) {
            const [first, second] = args;
            if (typeof first === 'string') recording.push({ text: first, values: Array.isArray(second) ? second : [] });
            else if (first && typeof first === 'object' && 'text' in first) {
              const config = first as { text: string; values?: unknown[] };
              recording.push({ text: config.text, values: config.values ?? (Array.isArray(second) ? second : []) });
            }
          }
          return query(...args);
        };
      });
    },
    start: () => {
      recording = [];
    },
    stop: () => {
      const captured = recording ?? [];
      recording = null;
      return captured;
    },
  };
}

export interface ExplainedStatement {
  /** The statement, whitespace collapsed. */
  sql: string;
  values: unknown[];
  /** The statement that scoped its transaction (SET LOCAL …), as it was sent. */
  scope: string;
  /** EXPLAIN (ANALYZE, BUFFERS) output, one line per element. */
  plan: string[];
  /** From the plan's last line, in milliseconds. */
  executionMs: number;
}

/** A statement to explain, with the scoping statement its transaction ran first. */
export interface ScopedStatement {
  scope: string;
  statement: CapturedStatement;
}

const isQuery = (text: string) => /^\s*(SELECT|WITH)\b/i.test(text);
const isScope = (text: string) => /^\s*SET\s+LOCAL\b/i.test(text);

/**
 * Pairs each query of a captured sequence with the SET LOCAL sent before it in
 * its transaction. A query's transaction is opened by its access check, one
 * message `BEGIN READ ONLY; SET LOCAL …; SELECT * FROM app.request_access(…)`:
 * the scope is then that message after its BEGIN (the function sets the role
 * and department path, which the policies read too).
 */
export function scopedQueries(captured: CapturedStatement[]): ScopedStatement[] {
  const result: ScopedStatement[] = [];
  let scope: string | null = null;
  for (const statement of captured) {
    const opening = /^\s*BEGIN\b[^;]*;\s*(SET\s+LOCAL\b[\s\S]*)$/i.exec(statement.text);
    if (opening) scope = /\bCOMMIT\s*$/i.test(statement.text) ? null : opening[1];
    else if (/^\s*BEGIN\b/i.test(statement.text)) scope = null;
    else if (isScope(statement.text)) scope = statement.text;
    else if (isQuery(statement.text) && scope) result.push({ scope, statement });
  }
  return result;
}

/**
 * EXPLAIN ANALYZE of each query as the runtime role, in a transaction scoped by
 * the very SET LOCAL statement that preceded it, rolled back afterwards. The
 * scoping statements come from our own capture (or the baseline's fixed text),
 * never from outside input.
 */
export async function explainAsTenant(runtimeUrl: string, queries: ScopedStatement[], explainOptions = 'ANALYZE, BUFFERS'): Promise<ExplainedStatement[]> {
  const client = new pg.Client({ connectionString: runtimeUrl, application_name: 'tenantgate-bench-explain' });
  await client.connect();
  try {
    const explained: ExplainedStatement[] = [];
    for (const { scope, statement } of queries) {
      if (!isScope(scope)) throw new Error(`not a SET LOCAL statement: ${scope.slice(0, 80)}`);
      await client.query('BEGIN');
      try {
        await client.query(scope);
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (${explainOptions}) ${statement.text}`, statement.values);
        const plan = rows.map((r) => r['QUERY PLAN']);
        const execution = /Execution Time: ([\d.]+) ms/.exec(plan[plan.length - 1] ?? '');
        explained.push({
          sql: statement.text.replace(/\s+/g, ' ').trim(),
          values: statement.values,
          scope,
          plan,
          executionMs: execution ? Number(execution[1]) : Number.NaN,
        });
      } finally {
        await client.query('ROLLBACK');
      }
    }
    return explained;
  } finally {
    await client.end();
  }
}

/** The index the projects page must be read through. */
export const PAGE_INDEX = 'projects_organization_id_created_at_id_idx';

/** True when the plan reads projects with an index scan on the page index (no sort, no bitmap, no seq scan). */
export function usesPageIndex(plan: string[]): boolean {
  const text = plan.join('\n');
  return new RegExp(`Index (Only )?Scan using ${PAGE_INDEX} on projects`).test(text) && !/\bSort\b|Seq Scan on projects|Bitmap Heap Scan on projects/.test(text);
}

/**
 * True when a scope-ALL page's keys (src/tenancy/shareable.ts, docs/adr/0052) are
 * read by the three branches' indexes: the organization's page index, the
 * shared keys' function then projects by id, the partial index of public rows;
 * and never by a scan of the table.
 */
export function usesSharedPageIndexes(plan: string[]): boolean {
  const text = plan.join('\n');
  return (
    new RegExp(`Index Scan (Backward )?using ${PAGE_INDEX} on projects`).test(text) &&
    /Function Scan on shared_row_keys/.test(text) &&
    /Index Scan (Backward )?using projects_public_idx on projects/.test(text) &&
    !/Seq Scan on projects|Bitmap Heap Scan on projects/.test(text)
  );
}
