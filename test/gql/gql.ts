/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n": typeof types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n": typeof types.ProjectDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n": typeof types.NodeDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n": typeof types.CreateProjectDocument,
    "\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n": typeof types.UpdateProjectDocument,
    "\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n": typeof types.DeleteProjectDocument,
    "\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n": typeof types.ProjectPageWithOwnersDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n": types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.ProjectsDocument,
    "\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n": types.ProjectDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n": types.NodeDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n": types.CreateProjectDocument,
    "\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n": types.UpdateProjectDocument,
    "\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n": types.DeleteProjectDocument,
    "\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n": types.ProjectPageWithOwnersDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n"): (typeof documents)["\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n"): (typeof documents)["\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n"): (typeof documents)["\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n"): (typeof documents)["\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n"): (typeof documents)["\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n"): (typeof documents)["\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;