import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder';

// Each domain file defines its types, queries and mutations; importing it registers them.
import './root';
import './users';
import './organizations';
import './viewer';
import './projects';
import './departments';
import './members';

/** The executable schema, sorted so that its printed form (schema.graphql) is deterministic. */
export const schema = lexicographicSortSchema(builder.toSchema());
