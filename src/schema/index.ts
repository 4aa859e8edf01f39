import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder';

// Each domain file defines its types, queries and mutations; importing it registers them.
import './root';
import './users/user.type';
import './organizations/organization.type';
import './viewer/viewer.query';
import './projects/project.type';
import './billing/plan.type';
import './quotas/quota.type';
import './domains/organization-domain.type';
import './organizations/update-organization.mutation';
import './analytics/analytics.query';
import './departments/department.type';
import './domains/domain-verification.type';
import './domains/verify-domain.mutation';
import './domains/update-domain.mutation';
import './domains/release-domain.mutation';
import './invitations/invitation.type';
import './invitations/invitations.mutation';
import './invitations/invitations.query';
import './signup/signup';
import './members/membership.type';
import './members/members.query';
import './members/add-member.mutation';
import './members/update-member.mutation';
import './members/remove-member.mutation';
import './members/transfer-ownership.mutation';
import './platform/platform.type';
import './billing/invoice.type';
import './billing/invoices.query';
import './billing/update-subscription.mutation';
import './billing/platform-invoice.type';
import './billing/generate-invoices.mutation';
import './billing/record-payment.mutation';
import './billing/mark-past-due.mutation';
import './usage/usage.query';
import './tasks/task.type';
import './files/upload.scalar';
import './files/file.type';
import './files/files.query';
import './files/upload-file.mutation';
import './files/delete-file.mutation';
import './sharing/sharing.type';
import './sharing/share.mutation';

/** The executable schema, sorted so that its printed form (schema.graphql) is deterministic. */
export const schema = lexicographicSortSchema(builder.toSchema());
