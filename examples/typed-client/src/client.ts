import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { graphql } from './gql';

/**
 * A typed client for tenantgate in a few lines: operations written with
 * `graphql(...)` are typed from the schema by GraphQL Code Generator (see
 * ../codegen.ts), so `data` has the exact shape of the selection.
 */
export interface Client {
  request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Promise<TData>;
}

export class GraphQLRequestError extends Error {
  constructor(readonly errors: { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

/** `fetchImpl` defaults to the global fetch; tests pass the gateway's in-process one. */
export function createClient(url: string, token: string, fetchImpl: typeof fetch = fetch): Client {
  return {
    async request(document, variables) {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      if (body.errors?.length) throw new GraphQLRequestError(body.errors);
      return body.data as never;
    },
  };
}

export const RecentProjects = graphql(`
  query RecentProjects($first: Int!) {
    viewer { role organization { slug } }
    projects(first: $first) { totalCount edges { node { id name status createdAt } } }
  }
`);

export const CreateProject = graphql(`
  mutation CreateProject($name: String!) {
    createProject(input: { name: $name }) { project { id name status } }
  }
`);
