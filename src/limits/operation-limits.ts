import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  TypeInfo,
  getNamedType,
  isObjectType,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';

/**
 * How big one GraphQL operation may be (issue 13): what is measured, and the
 * refusal. The numbers per plan are data (plan_operation_limits,
 * src/limits/plan-limits.ts); src/plugins/use-operation-limits.ts applies them.
 */
export interface OperationLimits {
  tokens: number;
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

export type Measure = keyof OperationLimits;

/** What one document measures; the largest of its operations for each measure. */
export type OperationMeasurement = Omit<OperationLimits, 'tokens'>;

/** Pothos' connection sizes (its defaults: the schema sets none): what first/last are clamped to, and what an absent one means. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/**
 * The document's lexical tokens, counted up to `cap + 1`: a document of 500,000
 * tokens costs as much as one of `cap + 1`. Comments are not tokens (graphql-js'
 * own `maxTokens` counts the same way).
 */
export function countTokens(source: string, cap: number): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (count <= cap && lexer.advance().kind !== TokenKind.EOF) count += 1;
  } catch {
    // A syntax error: parse() reports it; what was counted so far stands.
  }
  return count;
}

/**
 * first/last as the resolver will see them: a variable replaced by its value,
 * each clamped to MAX_PAGE_SIZE (Pothos clamps too), and a connection field
 * without either given DEFAULT_PAGE_SIZE, so that graphql-armor's cost-limit
 * (which multiplies by integer literals only) counts every page at its size.
 */
function withPageSizes(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, uses: { variables: boolean }): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  const literal = (value: number): ArgumentNode['value'] => ({ kind: Kind.INT, value: String(value) });
  const size = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? Math.min(Math.max(value, 0), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const field = typeInfo.getFieldDef();
        const type = field && getNamedType(field.type);
        if (!field || !isObjectType(type) || !type.name.endsWith('Connection')) return undefined;
        const names = new Set(field.args.map((arg) => arg.name));
        if (!names.has('first') && !names.has('last')) return undefined;
        const args = (node.arguments ?? []).map((arg) => {
          if (arg.name.value !== 'first' && arg.name.value !== 'last') return arg;
          if (arg.value.kind === Kind.VARIABLE) uses.variables = true;
          const value = arg.value.kind === Kind.VARIABLE ? variables?.[arg.value.name.value] : arg.value.kind === Kind.INT ? Number(arg.value.value) : undefined;
          return { ...arg, value: literal(size(value)) };
        });
        if (!args.some((arg) => arg.name.value === 'first' || arg.name.value === 'last')) {
          args.push({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: literal(DEFAULT_PAGE_SIZE) });
        }
        return { ...node, arguments: args };
      },
    }),
  );
}

/**
 * Measures a document with graphql-armor's rules, each given no limit so that
 * it always reports what it counted (`onAccept`). The rules remember fragments
 * they have counted, so a document of nested fragment spreads costs its size,
 * not its expansion. Fragments are flattened: a spread is neither a level of
 * depth nor a cost factor, only the fields it brings. Introspection is neither deep nor costly (armor's
 * defaults). Linear in the document; run on documents already bounded by tokens.
 */
const measuredDocuments = new WeakMap<DocumentNode, OperationMeasurement>();

/**
 * PERF: Yoga hands the same DocumentNode to every request of the same text (its
 * parse cache), so a document's measurement is kept with it, unless its cost
 * depends on variables (a page size given as one).
 */
export function measureOperation(schema: GraphQLSchema, document: DocumentNode, variables?: Record<string, unknown>): OperationMeasurement {
  const known = measuredDocuments.get(document);
  if (known) return known;
  const uses = { variables: false };
  const measured = measureUncached(schema, document, variables, uses);
  if (!uses.variables) measuredDocuments.set(document, measured);
  return measured;
}

function measureUncached(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, uses: { variables: boolean }): OperationMeasurement {
  const measured: OperationMeasurement = { depth: 0, aliases: 0, directives: 0, cost: 0 };
  const record = (measure: keyof OperationMeasurement) => [(_: unknown, { n }: { n: number }) => (measured[measure] = Math.max(measured[measure], n))];
  const unlimited = { n: Infinity, propagateOnRejection: false } as const;
  const rules: ValidationRule[] = [
    maxDepthRule({ ...unlimited, flattenFragments: true, onAccept: record('depth') }),
    maxAliasesRule({ ...unlimited, onAccept: record('aliases') }),
    maxDirectivesRule({ ...unlimited, onAccept: record('directives') }),
  ];
  validate(schema, document, rules);
  validate(schema, withPageSizes(schema, document, variables, uses), [costLimitRule({ maxCost: Infinity, flattenFragments: true, propagateOnRejection: false, onAccept: record('cost') })]);
  measured.cost = Math.ceil(measured.cost);
  return measured;
}

/** The first measure over its limit, if any. */
export function overLimit(measured: Partial<OperationLimits>, limits: OperationLimits): { measure: Measure; limit: number; measured: number } | null {
  for (const measure of ['tokens', 'depth', 'aliases', 'directives', 'cost'] as const) {
    const value = measured[measure];
    if (value !== undefined && value > limits[measure]) return { measure, limit: limits[measure], measured: value };
  }
  return null;
}

/**
 * QUERY_TOO_COMPLEX, 400: the measure, its limit and what the document
 * measured (for tokens, counting stops at limit + 1: "at least").
 */
export function queryTooComplex({ measure, limit, measured }: { measure: Measure; limit: number; measured: number }, plan: string | null): GraphQLError {
  const whose = plan ? `the ${plan} plan's` : 'the anonymous';
  const what = measure === 'tokens' ? `more than ${limit.toLocaleString('en-US')}` : measured.toLocaleString('en-US');
  return new GraphQLError(`The operation is too complex: its ${measure} (${what}) exceed ${whose} limit of ${limit.toLocaleString('en-US')}. Split it into smaller operations.`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', measure, limit, measured, plan, http: { status: 400 } },
  });
}
