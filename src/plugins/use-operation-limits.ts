import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Context } from '../context';
import { countTokens, measureOperation, overLimit, queryTooComplex, type OperationLimits, type OperationMeasurement } from '../limits/operation-limits';
import type { PlanLimits } from '../limits/plan-limits';
import { callerOf } from '../auth/bearer';
import type { TokenVerifier } from '../auth/tokens';

/**
 * Operation limits, checked before anything runs (issue 13): tokens, depth,
 * aliases, directives and cost (src/limits/operation-limits.ts), per plan
 * (src/limits/plan-limits.ts). Over a limit: QUERY_TOO_COMPLEX, 400, and
 * nothing executes.
 *
 * Three steps, because Yoga parses and validates before it builds the context
 * (where the token is verified and the organization known):
 * - before parsing: the tokens are counted, stopping past the budget: a caller
 *   without a token gets ANONYMOUS_MAX_TOKENS, one whose organization's plan is
 *   remembered (from an earlier request, src/limits/plan-limits.ts) that plan's,
 *   another the largest of any plan. So a 5 MB document costs as much as its
 *   first thousand tokens.
 *   Counted here rather than in the parser: Yoga caches parsed documents and
 *   parse errors by their text, and an anonymous refusal must not be served to
 *   a member.
 * - before validation: depth, aliases, directives and cost are measured
 *   (graphql-armor's rules) and held to the same ceiling. SECURITY: GraphQL's
 *   own validation compares every pair of same-named fields
 *   (OverlappingFieldsCanBeMerged), quadratic in aliases; it runs only on
 *   documents that passed.
 * - before execution, with the organization known: its plan's limits.
 *
 * The cost is kept for usage accounting (`operationCost`): src/plugins/use-usage.ts
 * counts an operation as ceil(cost / costPerApiCall) API calls.
 */
interface Measured extends Partial<OperationMeasurement> {
  tokens: number;
}

const measurements = new WeakMap<Request, Measured>();

/** The cost of the request's operation, once validated (src/plugins/use-usage.ts). */
export function operationCost(request: Request): number | undefined {
  return measurements.get(request)?.cost;
}

function anonymous(request: Request): boolean {
  return !request.headers.has('authorization');
}

/** The limits known before the context: the plan's name, null for anonymous, 'largest' when the plan is not known yet. */
interface Preliminary {
  limits: OperationLimits;
  plan: string | null;
}

export function useOperationLimits(limits: PlanLimits, verifyToken: TokenVerifier): Plugin<Context & YogaInitialContext> {
  const preliminaries = new WeakMap<Request, Preliminary>();
  const preliminary = (request: Request): Preliminary =>
    preliminaries.get(request) ?? (anonymous(request) ? { limits: limits.anonymous(), plan: null } : { limits: limits.ceiling(), plan: 'largest' });
  return {
    async onRequest({ request }) {
      await limits.refresh();
      if (anonymous(request)) return;
      const { organizationId } = await callerOf(request, verifyToken);
      const plan = organizationId ? limits.knownPlan(organizationId) : undefined;
      if (plan) preliminaries.set(request, { limits: limits.forPlan(plan), plan });
    },
    onParse({ context, params }) {
      const { request } = context as unknown as YogaInitialContext;
      const { limits: budget, plan } = preliminary(request);
      const tokens = countTokens(params.source.toString(), budget.tokens);
      if (tokens > budget.tokens) throw queryTooComplex({ measure: 'tokens', limit: budget.tokens, measured: tokens }, plan);
      measurements.set(request, { tokens });
    },
    onValidate({ context, params: { schema, documentAST } }) {
      const { request, params } = context as unknown as YogaInitialContext;
      // The tokens counted by onParse, now with the document's measures (kept per document: src/limits/operation-limits.ts).
      const measured: Measured = Object.assign(measurements.get(request) ?? { tokens: 0 }, measureOperation(schema, documentAST, params?.variables));
      measurements.set(request, measured);
      const { limits: budget, plan } = preliminary(request);
      const over = overLimit(measured, budget);
      // Thrown, not setResult: Yoga caches validation results by document, and a refusal under one caller's
      // limits (anonymous, or a FREE plan) must not be served to another's (a PRO member's) same document.
      if (over) throw queryTooComplex(over, plan);
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue;
      const measured = measurements.get(context.request);
      if (!context.viewer || !measured) return;
      // PERF: within every plan's limits, the plan need not be known (no statement).
      if (!overLimit(measured, limits.floor())) return;
      const tenantDb = context.tenantDb();
      const plan = await limits.planOf(context.viewer.organizationId, async () => {
        // RLS scopes subscriptions to the request's organization.
        const rows = await tenantDb.$queryRaw<{ plan: string }[]>`SELECT plan::text AS plan FROM subscriptions LIMIT 1`;
        return rows[0]?.plan ?? null;
      });
      const over = overLimit(measured, limits.forPlan(plan));
      if (over) setResultAndStopExecution({ errors: [queryTooComplex(over, plan)] });
    },
  };
}
