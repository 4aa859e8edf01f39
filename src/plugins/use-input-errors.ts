import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Gives GraphQL's own input coercion errors the BAD_USER_INPUT code that the
 * rest of the API uses, so a client handles "bad input" one way whether the
 * validation plugin or graphql-js found it. graphql-js already names the field
 * in the message (`… at "input.status"; Value "X" does not exist in "ProjectStatus" enum.`).
 */
const INPUT_ERROR = /^(Variable "\$[^"]+" got invalid value|Variable "\$[^"]+" of required type|Value "[^"]*" does not exist in "|Enum "[^"]+" cannot represent|Expected value of type "|Field "[^"]+" of required type "[^"]+" was not provided|Field "[^"]+" is not defined by type)/;

function withCode<E extends Error>(error: E): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  if (error.extensions?.code && error.extensions.code !== 'GRAPHQL_VALIDATION_FAILED') return error;
  if (!INPUT_ERROR.test(error.message)) return error;
  return new GraphQLError(error.message, {
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
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map(withCode));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ('errors' in result && result.errors?.length) setResult({ ...result, errors: result.errors.map(withCode) });
        },
      };
    },
  };
}
