import { graphql } from './gql';

/** The member operations the tests send, typed by `npm run codegen`. */

export const MembersQuery = graphql(`
  query Members($first: Int, $after: String, $role: Role) {
    members(first: $first, after: $after, role: $role) {
      totalCount
      edges { cursor node { user { id email name } role department { id name } joinedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const AddMember = graphql(`
  mutation AddMember($input: AddMemberInput!) {
    addMember(input: $input) { member { user { id email name } role joinedAt } }
  }
`);

export const UpdateMember = graphql(`
  mutation UpdateMember($input: UpdateMemberInput!) {
    updateMember(input: $input) { member { user { id email } role } }
  }
`);

export const RemoveMember = graphql(`
  mutation RemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input) { removedUserId }
  }
`);

export const TransferOwnership = graphql(`
  mutation TransferOwnership($input: TransferOwnershipInput!) {
    transferOwnership(input: $input) {
      owner { user { id } role }
      previousOwner { user { id } role }
    }
  }
`);

export const ViewerOrganizations = graphql(`
  query ViewerOrganizations {
    viewer { organizations { id slug name role joinedAt active } }
  }
`);
