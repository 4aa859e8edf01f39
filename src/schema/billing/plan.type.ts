import { Plan, SubscriptionStatus } from '../../generated/prisma/enums';
import { builder } from '../../builder';

/** The subscription plans and statuses, shared by organizations, the platform API and billing. */
export const PlanEnum = builder.enumType(Plan, { name: 'Plan' });
export const SubscriptionStatusEnum = builder.enumType(SubscriptionStatus, { name: 'SubscriptionStatus' });
