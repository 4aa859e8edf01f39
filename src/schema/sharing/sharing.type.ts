import { decodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder';
import { badUserInput } from '../../errors';

/**
 * Sharing across organizations (migration 20261204150200_sharing): enforced by
 * PostgreSQL's policies; these types only name it in the API.
 */
export const VisibilityEnum = builder.enumType('Visibility', {
  values: {
    PRIVATE: { description: 'Only the owning organization.' },
    SHARED: { description: 'The owning organization and the organizations it shared the row with.' },
    PUBLIC: { description: 'Every organization may read it.' },
  } as const,
});

export const SharePermissionEnum = builder.enumType('SharePermission', {
  values: {
    READ: { description: 'Read the row.' },
    WRITE: { description: "Update the row's shared fields; never delete it, share it or change its visibility. Implies READ." },
  } as const,
});

/** The shareable tables, by the GraphQL type of their global IDs. */
const SHAREABLE: Record<string, string> = { Project: 'projects', Template: 'templates' };

/** The table and row id of a shareable global ID, or BAD_USER_INPUT. */
export function shareableRow(globalId: string): { table: string; id: string } {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw badUserInput([{ field: 'input.id', message: 'is not a valid ID' }]);
  }
  const table = SHAREABLE[decoded.typename];
  if (!table || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(decoded.id)) {
    throw badUserInput([{ field: 'input.id', message: `must be the ID of a ${Object.keys(SHAREABLE).join(' or ')}` }]);
  }
  return { table, id: decoded.id };
}
