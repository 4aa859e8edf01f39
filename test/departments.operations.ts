import { graphql } from './gql';

/** The department operations of test/departments.test.ts, typed by `npm run codegen`. */

export const CreateDepartment = graphql(`
  mutation CreateDepartment($input: CreateDepartmentInput!) {
    createDepartment(input: $input) { department { id name parent { id name } children { name } createdAt updatedAt } }
  }
`);

export const UpdateDepartment = graphql(`
  mutation UpdateDepartment($input: UpdateDepartmentInput!) {
    updateDepartment(input: $input) { department { id name parent { id name } children { name } } }
  }
`);

export const DeleteDepartment = graphql(`
  mutation DeleteDepartment($input: DeleteDepartmentInput!) {
    deleteDepartment(input: $input) { deletedDepartmentId }
  }
`);

export const AssignToDepartment = graphql(`
  mutation AssignToDepartment($input: AssignToDepartmentInput!) {
    assignToDepartment(input: $input) { member { user { id email } department { id name } } }
  }
`);

export const DepartmentTree = graphql(`
  query DepartmentTree {
    departments { id name parent { name } children { name } members { user { email } role } }
  }
`);

export const DepartmentQuery = graphql(`
  query Department($id: ID!) {
    department(id: $id) {
      id
      name
      parent { name }
      children { name }
      members { user { email } }
      restrictedProjects(first: 10) { totalCount edges { node { id name } } }
    }
    node(id: $id) { id ... on Department { name } }
  }
`);

export const DepartmentMembers = graphql(`
  query DepartmentMembers($departmentId: ID!, $includeDescendants: Boolean) {
    departmentMembers(departmentId: $departmentId, includeDescendants: $includeDescendants) { user { email } department { name } }
  }
`);

/** Every way to reach one project: the list and its count, by id, as a node, and nested under its department. */
export const ProjectVisibility = graphql(`
  query ProjectVisibility($id: ID!, $departmentId: ID!) {
    projects(first: 50) { totalCount edges { node { id name } } }
    project(id: $id) { id name restrictedToDepartment { name } }
    node(id: $id) { id }
    department(id: $departmentId) { restrictedProjects(first: 10) { totalCount edges { node { id } } } }
  }
`);

export const CreateRestrictedProject = graphql(`
  mutation CreateRestrictedProject($input: CreateProjectInput!) {
    createProject(input: $input) { project { id name restrictedToDepartment { id name } } }
  }
`);

export const RestrictProject = graphql(`
  mutation RestrictProject($input: UpdateProjectInput!) {
    updateProject(input: $input) { project { id restrictedToDepartment { id name } } }
  }
`);
