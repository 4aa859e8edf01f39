import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Gives GraphQL's own input coercion errors the BAD_USER_INPUT code (and HTTP
 * 400) that the rest of the API uses, so a client handles "bad input" one way
 * whether the validation plugin or graphql-js found it.
 *
 * graphql-js names the field for a bad variable (`… at "input.status"`) but not
 * for a bad inline literal (`Value "X" does not exist in "ProjectStatus" enum.`);
 * for those the path is looked up in the document and put in front.
 */
const INPUT_ERROR =
  /^(Variable "\$[^"]+" got invalid value|Variable "\$[^"]+" of required type|Value "[^"]*" does not exist in "|Enum "[^"]+" cannot represent|Expected value of type "|Field "[^"]+" of required type "[^"]+" was not provided|Field "[^"]+" is not defined by type|(Int|Float|String|Boolean|ID) cannot represent|OneOf Input Object "[^"]+" must specify exactly one key|Field "[^"]+" must be non-null)/;

/** `input.status` for an inline literal at `input: { status: DONE }`. */
function literalPath(document: DocumentNode | undefined, target: ASTNode | undefined): string | null {
  if (!document || !target?.loc) return null;
  let found: string | null = null;
  visit(document, {
    enter(node, _key, parent, _path, ancestors) {
      if (found || node.loc?.start !== target.loc?.start || node.kind !== target.kind) return undefined;
      const names = [...ancestors, parent, node]
        .filter((a): a is ASTNode => !Array.isArray(a) && typeof a === 'object' && a !== null && 'kind' in a)
        .filter((a) => a.kind === Kind.ARGUMENT || a.kind === Kind.OBJECT_FIELD)
        .map((a) => (a as { name: { value: string } }).name.value);
      found = names.join('.') || null;
      return false;
    },
  });
  return found;
}

function withCode<E extends Error>(error: E, document?: DocumentNode): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  if (error.extensions?.code && error.extensions.code !== 'GRAPHQL_VALIDATION_FAILED') return error;
  if (!INPUT_ERROR.test(error.message)) return error;
  const path = error.message.startsWith('Variable "$') ? null : literalPath(document, error.nodes?.[0]);
  return new GraphQLError(path ? `"${path}": ${error.message}` : error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', http: { status: 400 } },
  });
}

export function useInputErrors(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, params.documentAST)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ('errors' in result && result.errors?.length) setResult({ ...result, errors: result.errors.map((error) => withCode(error)) });
        },
      };
    },
  };
}
