import { builder } from '../builder';

/** An amount of money: integer minor units (cents) and an ISO 4217 currency. Never a float. */
export interface MoneyValue {
  amountMinor: bigint;
  currency: string;
}

export const Money = builder.objectRef<MoneyValue>('Money').implement({
  description: 'An amount in integer minor units of its currency (cents for USD).',
  fields: (t) => ({
    amountMinor: t.field({ type: 'SafeInt', resolve: (money) => money.amountMinor }),
    currency: t.exposeString('currency'),
  }),
});
