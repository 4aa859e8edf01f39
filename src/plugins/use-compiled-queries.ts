import type { ExecutionArgs } from '@envelop/core';
import { GraphQLError, getNamedType, getOperationAST, getVariableValues, isInputObjectType, type DocumentNode, type ExecutionResult, type OperationDefinitionNode, type VariableDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Runs a query operation as JavaScript compiled for its document by graphql-jit
 * (its public `compileQuery`), instead of interpreting the
 * document field by field with the graphql-tools executor (ADR 0098).
 *
 * PERF: the executor's walk of the selection, its argument maps per field and
 * the null-prototype objects it builds (which JSON.stringify then takes its slow
 * path over) were about a fifth of a page request's CPU; compiled, the page
 * needs 660 instead of 838 µs of the gateway's CPU (bench/README.md).
 *
 * Only where the compiled executor answers exactly as the interpreter does
 * (test/compiled-queries.test.ts runs both and compares the responses):
 * - a **query**. Mutations stay interpreted: graphql-jit 0.8 refuses a non-null
 *   input field left out even when it has a default (`addMember(input: { email })`),
 *   and mutations spend their time writing, not executing.
 * - whose variables are scalars, enums or lists of them. An input-object variable
 *   stays interpreted: graphql-jit checks neither `@oneOf` nor those defaults.
 * - whose variables graphql-js accepts. Refused ones are refused by the
 *   interpreter, so the error is graphql-js's (which src/plugins/use-input-errors.ts
 *   words for the client), not graphql-jit's.
 * - **seen before**: a document is compiled on its second execution, so that a
 *   client sending a new document with each request (what an attacker does to
 *   defeat caches) never pays for, nor makes the gateway pay for, a compilation.
 *   The compiled function lives as long as Yoga's cache keeps the parsed
 *   document (a WeakMap keyed by it), so as many are kept as documents are.
 * - whose client is still there: the compiled executor does not watch the
 *   signal. A client that goes away while a compiled query runs stops its
 *   database work (src/db/request-scope.ts cancels the statement), not its
 *   remaining resolvers; resolvers that need the signal read `context.request.signal`.
 */
export interface CompiledQueriesOptions {
  /** Called when a document is compiled (once per document and operation name): tests, logs. */
  onCompile?: (operationName: string | undefined) => void;
}

export function useCompiledQueries(options: CompiledQueriesOptions = {}): Plugin {
  const verdicts = new WeakMap<DocumentNode, Map<string | undefined, Verdict>>();

  /** null: an operation name the document does not have (interpreted, and not remembered: a client could send endless ones). */
  function verdictOf(args: ExecutionArgs): Verdict | null {
    const operationName = args.operationName ?? undefined;
    let byName = verdicts.get(args.document);
    let verdict = byName?.get(operationName);
    if (verdict) return verdict;
    const operation = getOperationAST(args.document, operationName);
    if (!operation) return null;
    verdict = { operation, eligible: eligible(args, operation), seen: 0, compiled: undefined };
    if (!byName) verdicts.set(args.document, (byName = new Map()));
    byName.set(operationName, verdict);
    return verdict;
  }

  /** The compiled query, once the document has been seen before; null: interpret it. */
  function compiledFor(args: ExecutionArgs): CompiledQuery | null {
    const verdict = verdictOf(args);
    if (!verdict?.eligible || signalOf(args)?.aborted) return null;
    if (verdict.seen < 1) {
      verdict.seen += 1;
      return null;
    }
    if (!verdict.compiled) {
      const compiled = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      if (!isCompiledQuery(compiled)) {
        // graphql-js validated it; graphql-jit's errors would differ from the interpreter's answer, so it stays interpreted.
        verdict.eligible = false;
        return null;
      }
      verdict.compiled = compiled;
      options.onCompile?.(verdict.operation.name?.value);
    }
    const definitions = verdict.operation.variableDefinitions;
    if (definitions?.length && getVariableValues(args.schema, definitions, args.variableValues ?? {}).errors) return null;
    return verdict.compiled;
  }

  return {
    onExecute({ args, setExecuteFn }) {
      const compiled = compiledFor(args);
      if (!compiled) return;
      setExecuteFn((executeArgs) => {
        const result = compiled.query(executeArgs.rootValue, executeArgs.contextValue, executeArgs.variableValues);
        return isPromise(result) ? result.then((settled) => located(settled, executeArgs.document)) : located(result, executeArgs.document);
      });
    },
  };
}

/**
 * graphql-jit's errors carry `locations` but no `nodes`, and Yoga rebuilds every
 * error it sends from `nodes`, `source` and `positions` (its result processor
 * strips internal extensions that way): the locations would be lost. They are
 * made again as graphql-js makes them, from the document's source and each
 * location's offset in it.
 */
function located(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  if (!result.errors?.length) return result;
  const source = document.loc?.source;
  const errors = result.errors.map((error) => {
    if (error.nodes || !source) return error;
    const positions = error.locations?.map(({ line, column }) => offsetOf(source.body, line, column));
    return new GraphQLError(error.message, { source, positions, path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  });
  return { ...result, errors };
}

/** The offset of a 1-based line and column in `body`, lines ended as graphql-js ends them (\r\n, \n or \r). */
function offsetOf(body: string, line: number, column: number): number {
  const lineEnd = /\r\n|[\n\r]/g;
  let offset = 0;
  for (let current = 1; current < line; current += 1) {
    lineEnd.lastIndex = offset;
    const found = lineEnd.exec(body);
    if (!found) break;
    offset = found.index + found[0].length;
  }
  return offset + column - 1;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

interface Verdict {
  operation: OperationDefinitionNode;
  /** A query whose variables graphql-jit coerces as graphql-js does. */
  eligible: boolean;
  /** Executions before this one, up to 1. */
  seen: number;
  compiled: CompiledQuery | undefined;
}

function eligible(args: ExecutionArgs, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'query') return false;
  return (operation.variableDefinitions ?? []).every((definition) => coercedAlike(args, definition));
}

function coercedAlike(args: ExecutionArgs, definition: VariableDefinitionNode): boolean {
  const type = args.schema.getType(namedTypeName(definition));
  return type !== undefined && !isInputObjectType(getNamedType(type));
}

function namedTypeName(definition: VariableDefinitionNode): string {
  let type = definition.type;
  while (type.kind !== 'NamedType') type = type.type;
  return type.name.value;
}

/** The executor's signal, which src/plugins/use-execution-cancellation.ts adds to the arguments (graphql's ExecutionArgs type has none). */
function signalOf(args: ExecutionArgs): AbortSignal | undefined {
  return 'signal' in args && args.signal instanceof AbortSignal ? args.signal : undefined;
}
