import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder';

// Each domain file defines its types, queries and mutations; importing it registers them.
import './root';
import './users';
import './organizations';
import './viewer';
import './projects';
import './plans';
import './quotas';
import './domains';
import './organization-settings';
import './analytics';
import './departments';
import './members/membership.type';
import './members/members.query';
import './members/add-member.mutation';
import './members/update-member.mutation';
import './members/remove-member.mutation';
import './members/transfer-ownership.mutation';
import './platform';
import './billing/invoice.type';
import './billing/invoices.query';
import './billing/update-subscription.mutation';
import './billing/platform-invoice.type';
import './billing/generate-invoices.mutation';
import './billing/record-payment.mutation';
import './billing/mark-past-due.mutation';
import './usage';
import './audit/audit-entry.type';
import './audit/audit-log.query';
import './webhooks/webhook-endpoint.type';
import './webhooks/webhook-endpoints.mutation';
import './webhooks/webhook-deliveries.query';

/** The executable schema, sorted so that its printed form (schema.graphql) is deterministic. */
export const schema = lexicographicSortSchema(builder.toSchema());
