import { graphql } from './gql';

/**
 * The operations the integration tests send, typed by `npm run codegen` from
 * schema.graphql (test/gql is generated: do not edit it by hand).
 */

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      user { id email name }
      organization { id slug name }
      role
    }
    organization { id slug name }
  }
`);

export const ProjectsQuery = graphql(`
  query Projects($first: Int, $after: String, $status: ProjectStatus) {
    projects(first: $first, after: $after, status: $status) {
      totalCount
      edges { cursor node { id name status owner { id email } createdAt updatedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const ProjectQuery = graphql(`
  query Project($id: ID!) {
    project(id: $id) { id name status owner { id email } }
  }
`);

export const NodeQuery = graphql(`
  query Node($id: ID!) {
    node(id: $id) { id ... on Project { name } ... on User { email } }
  }
`);

export const CreateProject = graphql(`
  mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { project { id name status owner { id email } createdAt } }
  }
`);

export const UpdateProject = graphql(`
  mutation UpdateProject($input: UpdateProjectInput!) {
    updateProject(input: $input) { project { id name status updatedAt } }
  }
`);

export const DeleteProject = graphql(`
  mutation DeleteProject($input: DeleteProjectInput!) {
    deleteProject(input: $input) { deletedProjectId }
  }
`);

export const ProjectPageWithOwners = graphql(`
  query ProjectPageWithOwners($first: Int) {
    projects(first: $first) { edges { node { id name status owner { email } } } }
  }
`);
