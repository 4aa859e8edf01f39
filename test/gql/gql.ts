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
    "\n  mutation UpdateSubscription($input: UpdateSubscriptionInput!) {\n    updateSubscription(input: $input) { organization { id subscription { plan seats addOns status paidThrough } } }\n  }\n": typeof types.UpdateSubscriptionDocument,
    "\n  query Invoices($first: Int, $after: String, $status: InvoiceStatus) {\n    invoices(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        node {\n          id period status plan dueDate issuedAt paidAt\n          total { amountMinor currency }\n          lineItems { kind description quantity unitPrice { amountMinor currency } amount { amountMinor currency } }\n        }\n      }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.InvoicesDocument,
    "\n  query InvoiceNode($id: ID!) {\n    node(id: $id) { id ... on Invoice { period } }\n  }\n": typeof types.InvoiceNodeDocument,
    "\n  mutation GenerateInvoices($input: GenerateInvoicesInput!) {\n    generateInvoices(input: $input) {\n      period created skipped summary\n      invoices { id organizationId period status plan total { amountMinor currency } dueDate paidAt }\n    }\n  }\n": typeof types.GenerateInvoicesDocument,
    "\n  mutation RecordPayment($input: RecordPaymentInput!) {\n    recordPayment(input: $input) { invoice { id status paidAt total { amountMinor currency } } subscriptionStatus paidThrough }\n  }\n": typeof types.RecordPaymentDocument,
    "\n  mutation MarkPastDue($input: MarkPastDueInput!) {\n    markPastDue(input: $input) { organizationIds }\n  }\n": typeof types.MarkPastDueDocument,
    "\n  mutation CreateDepartment($input: CreateDepartmentInput!) {\n    createDepartment(input: $input) { department { id name parent { id name } children { name } createdAt updatedAt } }\n  }\n": typeof types.CreateDepartmentDocument,
    "\n  mutation UpdateDepartment($input: UpdateDepartmentInput!) {\n    updateDepartment(input: $input) { department { id name parent { id name } children { name } } }\n  }\n": typeof types.UpdateDepartmentDocument,
    "\n  mutation DeleteDepartment($input: DeleteDepartmentInput!) {\n    deleteDepartment(input: $input) { deletedDepartmentId }\n  }\n": typeof types.DeleteDepartmentDocument,
    "\n  mutation AssignToDepartment($input: AssignToDepartmentInput!) {\n    assignToDepartment(input: $input) { member { user { id email } department { id name } } }\n  }\n": typeof types.AssignToDepartmentDocument,
    "\n  query DepartmentTree {\n    departments { id name parent { name } children { name } members { user { email } role } }\n  }\n": typeof types.DepartmentTreeDocument,
    "\n  query Department($id: ID!) {\n    department(id: $id) {\n      id\n      name\n      parent { name }\n      children { name }\n      members { user { email } }\n      restrictedProjects(first: 10) { totalCount edges { node { id name } } }\n    }\n    node(id: $id) { id ... on Department { name } }\n  }\n": typeof types.DepartmentDocument,
    "\n  query DepartmentMembers($departmentId: ID!, $includeDescendants: Boolean) {\n    departmentMembers(departmentId: $departmentId, includeDescendants: $includeDescendants) { user { email } department { name } }\n  }\n": typeof types.DepartmentMembersDocument,
    "\n  query ProjectVisibility($id: ID!, $departmentId: ID!) {\n    projects(first: 50) { totalCount edges { node { id name } } }\n    project(id: $id) { id name restrictedToDepartment { name } }\n    node(id: $id) { id }\n    department(id: $departmentId) { restrictedProjects(first: 10) { totalCount edges { node { id } } } }\n  }\n": typeof types.ProjectVisibilityDocument,
    "\n  mutation CreateRestrictedProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name restrictedToDepartment { id name } } }\n  }\n": typeof types.CreateRestrictedProjectDocument,
    "\n  mutation RestrictProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id restrictedToDepartment { id name } } }\n  }\n": typeof types.RestrictProjectDocument,
    "\n  query Members($first: Int, $after: String, $role: Role) {\n    members(first: $first, after: $after, role: $role) {\n      totalCount\n      edges { cursor node { user { id email name } role department { id name } joinedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.MembersDocument,
    "\n  mutation AddMember($input: AddMemberInput!) {\n    addMember(input: $input) { member { user { id email name } role joinedAt } }\n  }\n": typeof types.AddMemberDocument,
    "\n  mutation UpdateMember($input: UpdateMemberInput!) {\n    updateMember(input: $input) { member { user { id email } role } }\n  }\n": typeof types.UpdateMemberDocument,
    "\n  mutation RemoveMember($input: RemoveMemberInput!) {\n    removeMember(input: $input) { removedUserId }\n  }\n": typeof types.RemoveMemberDocument,
    "\n  mutation TransferOwnership($input: TransferOwnershipInput!) {\n    transferOwnership(input: $input) {\n      owner { user { id } role }\n      previousOwner { user { id } role }\n    }\n  }\n": typeof types.TransferOwnershipDocument,
    "\n  query ViewerOrganizations {\n    viewer { organizations { id slug name role joinedAt active } }\n  }\n": typeof types.ViewerOrganizationsDocument,
    "\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n": typeof types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n": typeof types.ProjectDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n": typeof types.NodeDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n": typeof types.CreateProjectDocument,
    "\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n": typeof types.UpdateProjectDocument,
    "\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n": typeof types.DeleteProjectDocument,
    "\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n": typeof types.ProjectPageWithOwnersDocument,
    "\n  query OrganizationDetails {\n    organization {\n      id slug name createdAt updatedAt\n      domains { domain verified verifiedAt }\n      subscription { plan status seats addOns paidThrough }\n      settings {\n        branding { logo primaryColor customDomain }\n        security { enforceSSO sessionTimeout allowedIPs }\n        features { advancedAnalytics apiAccess customIntegrations webhooks }\n        integrations {\n          slack { webhookUrl { isSet masked } channel enabled }\n          datadog { apiKey { isSet masked } enabled }\n        }\n      }\n    }\n  }\n": typeof types.OrganizationDetailsDocument,
    "\n  mutation UpdateOrganization($input: UpdateOrganizationInput!) {\n    updateOrganization(input: $input) {\n      organization {\n        name\n        settings {\n          branding { logo primaryColor customDomain }\n          security { enforceSSO sessionTimeout allowedIPs }\n          features { advancedAnalytics apiAccess customIntegrations webhooks }\n          integrations { slack { webhookUrl { isSet masked } channel enabled } datadog { apiKey { isSet masked } enabled } }\n        }\n      }\n    }\n  }\n": typeof types.UpdateOrganizationDocument,
    "\n  query Analytics {\n    analytics { projectsByStatus { status count } membersByRole { role count } departments }\n  }\n": typeof types.AnalyticsDocument,
    "\n  query PlatformOrganizations($first: Int, $after: String, $search: String, $reason: String!) {\n    platformOrganizations(first: $first, after: $after, search: $search, reason: $reason) {\n      edges { cursor node { id slug name plan domains memberCount owner { id email name } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.PlatformOrganizationsDocument,
    "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { organization { id slug name plan domains memberCount owner { email name } } }\n  }\n": typeof types.CreateOrganizationDocument,
    "\n  mutation StartSupportSession($input: StartSupportSessionInput!) {\n    startSupportSession(input: $input) { token expiresAt organization { id slug } }\n  }\n": typeof types.StartSupportSessionDocument,
    "\n  query PlatformAuditLog($organizationId: ID, $first: Int, $after: String, $reason: String!) {\n    platformAuditLog(organizationId: $organizationId, first: $first, after: $after, reason: $reason) {\n      edges { node { action reason details actor { email } organization { slug } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.PlatformAuditLogDocument,
    "\n  query Quotas {\n    organization { quotas { resource limit used remaining } }\n  }\n": typeof types.QuotasDocument,
    "\n  mutation SetQuota($input: SetQuotaInput!) {\n    setQuota(input: $input) {\n      organization { id slug }\n      quota { resource limit used remaining }\n    }\n  }\n": typeof types.SetQuotaDocument,
    "\n  mutation AddDomain($input: AddDomainInput!) {\n    addDomain(input: $input) { domain { domain verified verifiedAt } }\n  }\n": typeof types.AddDomainDocument,
    "\n  query Usage($period: UsagePeriod!) {\n    usage(period: $period) {\n      period { from to }\n      apiCalls\n      bandwidth\n      computeTime\n      storage\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n": typeof types.UsageDocument,
    "\n  query PlatformUsage($organizationId: ID!, $period: UsagePeriod!, $reason: String!) {\n    platformUsage(organizationId: $organizationId, period: $period, reason: $reason) {\n      period { from to }\n      apiCalls\n      bandwidth\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n": typeof types.PlatformUsageDocument,
    "\n  query ViewerRole {\n    viewer { role }\n  }\n": typeof types.ViewerRoleDocument,
};
const documents: Documents = {
    "\n  mutation UpdateSubscription($input: UpdateSubscriptionInput!) {\n    updateSubscription(input: $input) { organization { id subscription { plan seats addOns status paidThrough } } }\n  }\n": types.UpdateSubscriptionDocument,
    "\n  query Invoices($first: Int, $after: String, $status: InvoiceStatus) {\n    invoices(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        node {\n          id period status plan dueDate issuedAt paidAt\n          total { amountMinor currency }\n          lineItems { kind description quantity unitPrice { amountMinor currency } amount { amountMinor currency } }\n        }\n      }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.InvoicesDocument,
    "\n  query InvoiceNode($id: ID!) {\n    node(id: $id) { id ... on Invoice { period } }\n  }\n": types.InvoiceNodeDocument,
    "\n  mutation GenerateInvoices($input: GenerateInvoicesInput!) {\n    generateInvoices(input: $input) {\n      period created skipped summary\n      invoices { id organizationId period status plan total { amountMinor currency } dueDate paidAt }\n    }\n  }\n": types.GenerateInvoicesDocument,
    "\n  mutation RecordPayment($input: RecordPaymentInput!) {\n    recordPayment(input: $input) { invoice { id status paidAt total { amountMinor currency } } subscriptionStatus paidThrough }\n  }\n": types.RecordPaymentDocument,
    "\n  mutation MarkPastDue($input: MarkPastDueInput!) {\n    markPastDue(input: $input) { organizationIds }\n  }\n": types.MarkPastDueDocument,
    "\n  mutation CreateDepartment($input: CreateDepartmentInput!) {\n    createDepartment(input: $input) { department { id name parent { id name } children { name } createdAt updatedAt } }\n  }\n": types.CreateDepartmentDocument,
    "\n  mutation UpdateDepartment($input: UpdateDepartmentInput!) {\n    updateDepartment(input: $input) { department { id name parent { id name } children { name } } }\n  }\n": types.UpdateDepartmentDocument,
    "\n  mutation DeleteDepartment($input: DeleteDepartmentInput!) {\n    deleteDepartment(input: $input) { deletedDepartmentId }\n  }\n": types.DeleteDepartmentDocument,
    "\n  mutation AssignToDepartment($input: AssignToDepartmentInput!) {\n    assignToDepartment(input: $input) { member { user { id email } department { id name } } }\n  }\n": types.AssignToDepartmentDocument,
    "\n  query DepartmentTree {\n    departments { id name parent { name } children { name } members { user { email } role } }\n  }\n": types.DepartmentTreeDocument,
    "\n  query Department($id: ID!) {\n    department(id: $id) {\n      id\n      name\n      parent { name }\n      children { name }\n      members { user { email } }\n      restrictedProjects(first: 10) { totalCount edges { node { id name } } }\n    }\n    node(id: $id) { id ... on Department { name } }\n  }\n": types.DepartmentDocument,
    "\n  query DepartmentMembers($departmentId: ID!, $includeDescendants: Boolean) {\n    departmentMembers(departmentId: $departmentId, includeDescendants: $includeDescendants) { user { email } department { name } }\n  }\n": types.DepartmentMembersDocument,
    "\n  query ProjectVisibility($id: ID!, $departmentId: ID!) {\n    projects(first: 50) { totalCount edges { node { id name } } }\n    project(id: $id) { id name restrictedToDepartment { name } }\n    node(id: $id) { id }\n    department(id: $departmentId) { restrictedProjects(first: 10) { totalCount edges { node { id } } } }\n  }\n": types.ProjectVisibilityDocument,
    "\n  mutation CreateRestrictedProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name restrictedToDepartment { id name } } }\n  }\n": types.CreateRestrictedProjectDocument,
    "\n  mutation RestrictProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id restrictedToDepartment { id name } } }\n  }\n": types.RestrictProjectDocument,
    "\n  query Members($first: Int, $after: String, $role: Role) {\n    members(first: $first, after: $after, role: $role) {\n      totalCount\n      edges { cursor node { user { id email name } role department { id name } joinedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.MembersDocument,
    "\n  mutation AddMember($input: AddMemberInput!) {\n    addMember(input: $input) { member { user { id email name } role joinedAt } }\n  }\n": types.AddMemberDocument,
    "\n  mutation UpdateMember($input: UpdateMemberInput!) {\n    updateMember(input: $input) { member { user { id email } role } }\n  }\n": types.UpdateMemberDocument,
    "\n  mutation RemoveMember($input: RemoveMemberInput!) {\n    removeMember(input: $input) { removedUserId }\n  }\n": types.RemoveMemberDocument,
    "\n  mutation TransferOwnership($input: TransferOwnershipInput!) {\n    transferOwnership(input: $input) {\n      owner { user { id } role }\n      previousOwner { user { id } role }\n    }\n  }\n": types.TransferOwnershipDocument,
    "\n  query ViewerOrganizations {\n    viewer { organizations { id slug name role joinedAt active } }\n  }\n": types.ViewerOrganizationsDocument,
    "\n  query Viewer {\n    viewer {\n      user { id email name }\n      organization { id slug name }\n      role\n    }\n    organization { id slug name }\n  }\n": types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String, $status: ProjectStatus) {\n    projects(first: $first, after: $after, status: $status) {\n      totalCount\n      edges { cursor node { id name status owner { id email } createdAt updatedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.ProjectsDocument,
    "\n  query Project($id: ID!) {\n    project(id: $id) { id name status owner { id email } }\n  }\n": types.ProjectDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) { id ... on Project { name } ... on User { email } }\n  }\n": types.NodeDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name status owner { id email } createdAt } }\n  }\n": types.CreateProjectDocument,
    "\n  mutation UpdateProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id name status updatedAt } }\n  }\n": types.UpdateProjectDocument,
    "\n  mutation DeleteProject($input: DeleteProjectInput!) {\n    deleteProject(input: $input) { deletedProjectId }\n  }\n": types.DeleteProjectDocument,
    "\n  query ProjectPageWithOwners($first: Int) {\n    projects(first: $first) { edges { node { id name status owner { email } } } }\n  }\n": types.ProjectPageWithOwnersDocument,
    "\n  query OrganizationDetails {\n    organization {\n      id slug name createdAt updatedAt\n      domains { domain verified verifiedAt }\n      subscription { plan status seats addOns paidThrough }\n      settings {\n        branding { logo primaryColor customDomain }\n        security { enforceSSO sessionTimeout allowedIPs }\n        features { advancedAnalytics apiAccess customIntegrations webhooks }\n        integrations {\n          slack { webhookUrl { isSet masked } channel enabled }\n          datadog { apiKey { isSet masked } enabled }\n        }\n      }\n    }\n  }\n": types.OrganizationDetailsDocument,
    "\n  mutation UpdateOrganization($input: UpdateOrganizationInput!) {\n    updateOrganization(input: $input) {\n      organization {\n        name\n        settings {\n          branding { logo primaryColor customDomain }\n          security { enforceSSO sessionTimeout allowedIPs }\n          features { advancedAnalytics apiAccess customIntegrations webhooks }\n          integrations { slack { webhookUrl { isSet masked } channel enabled } datadog { apiKey { isSet masked } enabled } }\n        }\n      }\n    }\n  }\n": types.UpdateOrganizationDocument,
    "\n  query Analytics {\n    analytics { projectsByStatus { status count } membersByRole { role count } departments }\n  }\n": types.AnalyticsDocument,
    "\n  query PlatformOrganizations($first: Int, $after: String, $search: String, $reason: String!) {\n    platformOrganizations(first: $first, after: $after, search: $search, reason: $reason) {\n      edges { cursor node { id slug name plan domains memberCount owner { id email name } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.PlatformOrganizationsDocument,
    "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { organization { id slug name plan domains memberCount owner { email name } } }\n  }\n": types.CreateOrganizationDocument,
    "\n  mutation StartSupportSession($input: StartSupportSessionInput!) {\n    startSupportSession(input: $input) { token expiresAt organization { id slug } }\n  }\n": types.StartSupportSessionDocument,
    "\n  query PlatformAuditLog($organizationId: ID, $first: Int, $after: String, $reason: String!) {\n    platformAuditLog(organizationId: $organizationId, first: $first, after: $after, reason: $reason) {\n      edges { node { action reason details actor { email } organization { slug } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.PlatformAuditLogDocument,
    "\n  query Quotas {\n    organization { quotas { resource limit used remaining } }\n  }\n": types.QuotasDocument,
    "\n  mutation SetQuota($input: SetQuotaInput!) {\n    setQuota(input: $input) {\n      organization { id slug }\n      quota { resource limit used remaining }\n    }\n  }\n": types.SetQuotaDocument,
    "\n  mutation AddDomain($input: AddDomainInput!) {\n    addDomain(input: $input) { domain { domain verified verifiedAt } }\n  }\n": types.AddDomainDocument,
    "\n  query Usage($period: UsagePeriod!) {\n    usage(period: $period) {\n      period { from to }\n      apiCalls\n      bandwidth\n      computeTime\n      storage\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n": types.UsageDocument,
    "\n  query PlatformUsage($organizationId: ID!, $period: UsagePeriod!, $reason: String!) {\n    platformUsage(organizationId: $organizationId, period: $period, reason: $reason) {\n      period { from to }\n      apiCalls\n      bandwidth\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n": types.PlatformUsageDocument,
    "\n  query ViewerRole {\n    viewer { role }\n  }\n": types.ViewerRoleDocument,
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
export function graphql(source: "\n  mutation UpdateSubscription($input: UpdateSubscriptionInput!) {\n    updateSubscription(input: $input) { organization { id subscription { plan seats addOns status paidThrough } } }\n  }\n"): (typeof documents)["\n  mutation UpdateSubscription($input: UpdateSubscriptionInput!) {\n    updateSubscription(input: $input) { organization { id subscription { plan seats addOns status paidThrough } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Invoices($first: Int, $after: String, $status: InvoiceStatus) {\n    invoices(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        node {\n          id period status plan dueDate issuedAt paidAt\n          total { amountMinor currency }\n          lineItems { kind description quantity unitPrice { amountMinor currency } amount { amountMinor currency } }\n        }\n      }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Invoices($first: Int, $after: String, $status: InvoiceStatus) {\n    invoices(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        node {\n          id period status plan dueDate issuedAt paidAt\n          total { amountMinor currency }\n          lineItems { kind description quantity unitPrice { amountMinor currency } amount { amountMinor currency } }\n        }\n      }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query InvoiceNode($id: ID!) {\n    node(id: $id) { id ... on Invoice { period } }\n  }\n"): (typeof documents)["\n  query InvoiceNode($id: ID!) {\n    node(id: $id) { id ... on Invoice { period } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation GenerateInvoices($input: GenerateInvoicesInput!) {\n    generateInvoices(input: $input) {\n      period created skipped summary\n      invoices { id organizationId period status plan total { amountMinor currency } dueDate paidAt }\n    }\n  }\n"): (typeof documents)["\n  mutation GenerateInvoices($input: GenerateInvoicesInput!) {\n    generateInvoices(input: $input) {\n      period created skipped summary\n      invoices { id organizationId period status plan total { amountMinor currency } dueDate paidAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordPayment($input: RecordPaymentInput!) {\n    recordPayment(input: $input) { invoice { id status paidAt total { amountMinor currency } } subscriptionStatus paidThrough }\n  }\n"): (typeof documents)["\n  mutation RecordPayment($input: RecordPaymentInput!) {\n    recordPayment(input: $input) { invoice { id status paidAt total { amountMinor currency } } subscriptionStatus paidThrough }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkPastDue($input: MarkPastDueInput!) {\n    markPastDue(input: $input) { organizationIds }\n  }\n"): (typeof documents)["\n  mutation MarkPastDue($input: MarkPastDueInput!) {\n    markPastDue(input: $input) { organizationIds }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateDepartment($input: CreateDepartmentInput!) {\n    createDepartment(input: $input) { department { id name parent { id name } children { name } createdAt updatedAt } }\n  }\n"): (typeof documents)["\n  mutation CreateDepartment($input: CreateDepartmentInput!) {\n    createDepartment(input: $input) { department { id name parent { id name } children { name } createdAt updatedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateDepartment($input: UpdateDepartmentInput!) {\n    updateDepartment(input: $input) { department { id name parent { id name } children { name } } }\n  }\n"): (typeof documents)["\n  mutation UpdateDepartment($input: UpdateDepartmentInput!) {\n    updateDepartment(input: $input) { department { id name parent { id name } children { name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteDepartment($input: DeleteDepartmentInput!) {\n    deleteDepartment(input: $input) { deletedDepartmentId }\n  }\n"): (typeof documents)["\n  mutation DeleteDepartment($input: DeleteDepartmentInput!) {\n    deleteDepartment(input: $input) { deletedDepartmentId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AssignToDepartment($input: AssignToDepartmentInput!) {\n    assignToDepartment(input: $input) { member { user { id email } department { id name } } }\n  }\n"): (typeof documents)["\n  mutation AssignToDepartment($input: AssignToDepartmentInput!) {\n    assignToDepartment(input: $input) { member { user { id email } department { id name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DepartmentTree {\n    departments { id name parent { name } children { name } members { user { email } role } }\n  }\n"): (typeof documents)["\n  query DepartmentTree {\n    departments { id name parent { name } children { name } members { user { email } role } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Department($id: ID!) {\n    department(id: $id) {\n      id\n      name\n      parent { name }\n      children { name }\n      members { user { email } }\n      restrictedProjects(first: 10) { totalCount edges { node { id name } } }\n    }\n    node(id: $id) { id ... on Department { name } }\n  }\n"): (typeof documents)["\n  query Department($id: ID!) {\n    department(id: $id) {\n      id\n      name\n      parent { name }\n      children { name }\n      members { user { email } }\n      restrictedProjects(first: 10) { totalCount edges { node { id name } } }\n    }\n    node(id: $id) { id ... on Department { name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DepartmentMembers($departmentId: ID!, $includeDescendants: Boolean) {\n    departmentMembers(departmentId: $departmentId, includeDescendants: $includeDescendants) { user { email } department { name } }\n  }\n"): (typeof documents)["\n  query DepartmentMembers($departmentId: ID!, $includeDescendants: Boolean) {\n    departmentMembers(departmentId: $departmentId, includeDescendants: $includeDescendants) { user { email } department { name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectVisibility($id: ID!, $departmentId: ID!) {\n    projects(first: 50) { totalCount edges { node { id name } } }\n    project(id: $id) { id name restrictedToDepartment { name } }\n    node(id: $id) { id }\n    department(id: $departmentId) { restrictedProjects(first: 10) { totalCount edges { node { id } } } }\n  }\n"): (typeof documents)["\n  query ProjectVisibility($id: ID!, $departmentId: ID!) {\n    projects(first: 50) { totalCount edges { node { id name } } }\n    project(id: $id) { id name restrictedToDepartment { name } }\n    node(id: $id) { id }\n    department(id: $departmentId) { restrictedProjects(first: 10) { totalCount edges { node { id } } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateRestrictedProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name restrictedToDepartment { id name } } }\n  }\n"): (typeof documents)["\n  mutation CreateRestrictedProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name restrictedToDepartment { id name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestrictProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id restrictedToDepartment { id name } } }\n  }\n"): (typeof documents)["\n  mutation RestrictProject($input: UpdateProjectInput!) {\n    updateProject(input: $input) { project { id restrictedToDepartment { id name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Members($first: Int, $after: String, $role: Role) {\n    members(first: $first, after: $after, role: $role) {\n      totalCount\n      edges { cursor node { user { id email name } role department { id name } joinedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Members($first: Int, $after: String, $role: Role) {\n    members(first: $first, after: $after, role: $role) {\n      totalCount\n      edges { cursor node { user { id email name } role department { id name } joinedAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddMember($input: AddMemberInput!) {\n    addMember(input: $input) { member { user { id email name } role joinedAt } }\n  }\n"): (typeof documents)["\n  mutation AddMember($input: AddMemberInput!) {\n    addMember(input: $input) { member { user { id email name } role joinedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMember($input: UpdateMemberInput!) {\n    updateMember(input: $input) { member { user { id email } role } }\n  }\n"): (typeof documents)["\n  mutation UpdateMember($input: UpdateMemberInput!) {\n    updateMember(input: $input) { member { user { id email } role } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($input: RemoveMemberInput!) {\n    removeMember(input: $input) { removedUserId }\n  }\n"): (typeof documents)["\n  mutation RemoveMember($input: RemoveMemberInput!) {\n    removeMember(input: $input) { removedUserId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TransferOwnership($input: TransferOwnershipInput!) {\n    transferOwnership(input: $input) {\n      owner { user { id } role }\n      previousOwner { user { id } role }\n    }\n  }\n"): (typeof documents)["\n  mutation TransferOwnership($input: TransferOwnershipInput!) {\n    transferOwnership(input: $input) {\n      owner { user { id } role }\n      previousOwner { user { id } role }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ViewerOrganizations {\n    viewer { organizations { id slug name role joinedAt active } }\n  }\n"): (typeof documents)["\n  query ViewerOrganizations {\n    viewer { organizations { id slug name role joinedAt active } }\n  }\n"];
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
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrganizationDetails {\n    organization {\n      id slug name createdAt updatedAt\n      domains { domain verified verifiedAt }\n      subscription { plan status seats addOns paidThrough }\n      settings {\n        branding { logo primaryColor customDomain }\n        security { enforceSSO sessionTimeout allowedIPs }\n        features { advancedAnalytics apiAccess customIntegrations webhooks }\n        integrations {\n          slack { webhookUrl { isSet masked } channel enabled }\n          datadog { apiKey { isSet masked } enabled }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query OrganizationDetails {\n    organization {\n      id slug name createdAt updatedAt\n      domains { domain verified verifiedAt }\n      subscription { plan status seats addOns paidThrough }\n      settings {\n        branding { logo primaryColor customDomain }\n        security { enforceSSO sessionTimeout allowedIPs }\n        features { advancedAnalytics apiAccess customIntegrations webhooks }\n        integrations {\n          slack { webhookUrl { isSet masked } channel enabled }\n          datadog { apiKey { isSet masked } enabled }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateOrganization($input: UpdateOrganizationInput!) {\n    updateOrganization(input: $input) {\n      organization {\n        name\n        settings {\n          branding { logo primaryColor customDomain }\n          security { enforceSSO sessionTimeout allowedIPs }\n          features { advancedAnalytics apiAccess customIntegrations webhooks }\n          integrations { slack { webhookUrl { isSet masked } channel enabled } datadog { apiKey { isSet masked } enabled } }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateOrganization($input: UpdateOrganizationInput!) {\n    updateOrganization(input: $input) {\n      organization {\n        name\n        settings {\n          branding { logo primaryColor customDomain }\n          security { enforceSSO sessionTimeout allowedIPs }\n          features { advancedAnalytics apiAccess customIntegrations webhooks }\n          integrations { slack { webhookUrl { isSet masked } channel enabled } datadog { apiKey { isSet masked } enabled } }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Analytics {\n    analytics { projectsByStatus { status count } membersByRole { role count } departments }\n  }\n"): (typeof documents)["\n  query Analytics {\n    analytics { projectsByStatus { status count } membersByRole { role count } departments }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PlatformOrganizations($first: Int, $after: String, $search: String, $reason: String!) {\n    platformOrganizations(first: $first, after: $after, search: $search, reason: $reason) {\n      edges { cursor node { id slug name plan domains memberCount owner { id email name } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query PlatformOrganizations($first: Int, $after: String, $search: String, $reason: String!) {\n    platformOrganizations(first: $first, after: $after, search: $search, reason: $reason) {\n      edges { cursor node { id slug name plan domains memberCount owner { id email name } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { organization { id slug name plan domains memberCount owner { email name } } }\n  }\n"): (typeof documents)["\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { organization { id slug name plan domains memberCount owner { email name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartSupportSession($input: StartSupportSessionInput!) {\n    startSupportSession(input: $input) { token expiresAt organization { id slug } }\n  }\n"): (typeof documents)["\n  mutation StartSupportSession($input: StartSupportSessionInput!) {\n    startSupportSession(input: $input) { token expiresAt organization { id slug } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PlatformAuditLog($organizationId: ID, $first: Int, $after: String, $reason: String!) {\n    platformAuditLog(organizationId: $organizationId, first: $first, after: $after, reason: $reason) {\n      edges { node { action reason details actor { email } organization { slug } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query PlatformAuditLog($organizationId: ID, $first: Int, $after: String, $reason: String!) {\n    platformAuditLog(organizationId: $organizationId, first: $first, after: $after, reason: $reason) {\n      edges { node { action reason details actor { email } organization { slug } createdAt } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Quotas {\n    organization { quotas { resource limit used remaining } }\n  }\n"): (typeof documents)["\n  query Quotas {\n    organization { quotas { resource limit used remaining } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetQuota($input: SetQuotaInput!) {\n    setQuota(input: $input) {\n      organization { id slug }\n      quota { resource limit used remaining }\n    }\n  }\n"): (typeof documents)["\n  mutation SetQuota($input: SetQuotaInput!) {\n    setQuota(input: $input) {\n      organization { id slug }\n      quota { resource limit used remaining }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddDomain($input: AddDomainInput!) {\n    addDomain(input: $input) { domain { domain verified verifiedAt } }\n  }\n"): (typeof documents)["\n  mutation AddDomain($input: AddDomainInput!) {\n    addDomain(input: $input) { domain { domain verified verifiedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Usage($period: UsagePeriod!) {\n    usage(period: $period) {\n      period { from to }\n      apiCalls\n      bandwidth\n      computeTime\n      storage\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n"): (typeof documents)["\n  query Usage($period: UsagePeriod!) {\n    usage(period: $period) {\n      period { from to }\n      apiCalls\n      bandwidth\n      computeTime\n      storage\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PlatformUsage($organizationId: ID!, $period: UsagePeriod!, $reason: String!) {\n    platformUsage(organizationId: $organizationId, period: $period, reason: $reason) {\n      period { from to }\n      apiCalls\n      bandwidth\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n"): (typeof documents)["\n  query PlatformUsage($organizationId: ID!, $period: UsagePeriod!, $reason: String!) {\n    platformUsage(organizationId: $organizationId, period: $period, reason: $reason) {\n      period { from to }\n      apiCalls\n      bandwidth\n      activeUsers\n      estimatedCost { amountMinor currency }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ViewerRole {\n    viewer { role }\n  }\n"): (typeof documents)["\n  query ViewerRole {\n    viewer { role }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;