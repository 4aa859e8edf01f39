import type { Prisma, User as UserRow } from '../../generated/prisma/client';
import { builder } from '../../builder';

/**
 * Every column the User type reads. A user joined into another query (a
 * project's owner) is selected with these and no more: Prisma turns each
 * joined value of each row into JS (a Date for created_at), and on a page of
 * projects that cost more CPU than the rest of the owner's join.
 */
export const USER_COLUMNS = { id: true, email: true, name: true } as const satisfies Prisma.UserSelect;

/** A user read with USER_COLUMNS, as the User type takes it. */
export function asUser(row: Prisma.UserGetPayload<{ select: typeof USER_COLUMNS }>): UserRow {
  return row as UserRow;
}

/**
 * A global identity. The users policy shows the caller only the members of the
 * active organization (and itself): another organization's people are invisible.
 */
export const User = builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name'),
  }),
});
