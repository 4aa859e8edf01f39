import { decodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';

/**
 * Validates an input Relay global ID of the given type and turns it into the
 * row id. A malformed id, or one of another type, is BAD_USER_INPUT naming the
 * field (the validation plugin adds the path).
 */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function globalIdOf(typename: string) {
  return z.string().transform((value, ctx) => {
    let decoded: { typename: string; id: string };
    try {
      decoded = decodeGlobalID(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not a valid ID` });
      return z.NEVER;
    }
    if (decoded.typename !== typename || !UUID.test(decoded.id)) {
      ctx.addIssue({ code: 'custom', message: `is not a ${typename} ID` });
      return z.NEVER;
    }
    // Canonical, like the ids of tokens (src/auth/tokens.ts): one spelling per row.
    return decoded.id.toLowerCase();
  });
}

/**
 * An optional ID argument (validated by globalIdOf) as a row id, keeping null
 * and undefined apart: in an update, null clears a reference and omitted leaves it alone.
 */
export function optionalRowId(id: string | number | null | undefined): string | null | undefined {
  return id == null ? id : String(id);
}
