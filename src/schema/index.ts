import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder';

// Each domain file defines its types, queries and mutations; importing it registers them.
import './root';
import './users';
import './organizations';
import './viewer';
import './projects';
import './plans';
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

/** The executable schema, sorted so that its printed form (schema.graphql) is deterministic. */
export const schema = lexicographicSortSchema(builder.toSchema());
