import { builder } from '../builder';

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
