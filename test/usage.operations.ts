import { graphql } from './gql';

/** The usage operations the tests send, typed by `npm run codegen`. */

export const UsageQuery = graphql(`
  query Usage($period: UsagePeriod!) {
    usage(period: $period) {
      period { from to }
      apiCalls
      bandwidth
      computeTime
      storage
      activeUsers
      estimatedCost { amountMinor currency }
    }
  }
`);

export const PlatformUsageQuery = graphql(`
  query PlatformUsage($organizationId: ID!, $period: UsagePeriod!, $reason: String!) {
    platformUsage(organizationId: $organizationId, period: $period, reason: $reason) {
      period { from to }
      apiCalls
      bandwidth
      activeUsers
      estimatedCost { amountMinor currency }
    }
  }
`);

/** The cheapest authenticated operation: the viewer comes from the context, so its only statement is the access query. */
export const ViewerRoleQuery = graphql(`
  query ViewerRole {
    viewer { role }
  }
`);
