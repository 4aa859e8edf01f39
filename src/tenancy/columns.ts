import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The columns a tenantModel list or get reads: those its GraphQL selection
 * needs, as a Prisma `omit` of the others (docs/adr/0082-columns-from-the-selection.md).
 *
 * PERF: Pothos' prisma plugin in its default (include) mode reads every scalar
 * column of the model, so `projects(first: 20) { id name status owner { email } }`
 * read all eleven columns of projects, two uuid[] arrays and two timestamps
 * among them, and node-postgres and Prisma parsed and copied every one of them
 * for every row. Pothos' select mode reads only what is selected, but wraps
 * every exposed field of every row in a resolver that looks up how the row was
 * loaded, which cost more than the columns saved (bench/HISTORY.md). Here the
 * selection is read once per document instead (cached on the field's node, which
 * Yoga's parse cache keeps for the same query text) and the rows stay plain.
 *
 * SECURITY/correctness: every field of the node must declare the scalar fields
 * it reads (`ColumnMap`); a selected field without an entry, a field this map
 * does not know, turns the omission off for that request: every column is read,
 * as before. `@skip`/`@include` are ignored (the field counts as selected), which
 * only ever reads more. The organization and the id are always read: cursors,
 * `remember()` and the owner's check use them.
 */

/** GraphQL field of a node -> the model's scalar fields its resolver reads from the row (besides organizationId and id). */
export type ColumnMap = ReadonlyMap<string, readonly string[]>;

/** Always read: the key of every row. */
const KEY_FIELDS = ['organizationId', 'id'];

/** The node's selected field names, under `edges { node }` and `nodes` of a connection, or directly under a get field. */
function selectedNodeFields(info: GraphQLResolveInfo, connection: boolean): Set<string> {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined, path: readonly string[], depth: number) => {
    // Validation refuses fragment cycles; the bound only guards against a document that skipped it.
    if (!set || depth > 50) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (path.length === 0) names.add(selection.name.value);
        else if (selection.name.value === path[0]) visit(selection.selectionSet, path.slice(1), depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, path, depth + 1);
      else visit(info.fragments[selection.name.value]?.selectionSet, path, depth + 1);
    }
  };
  for (const node of info.fieldNodes) {
    if (connection) {
      visit(node.selectionSet, ['edges', 'node'], 0);
      visit(node.selectionSet, ['nodes'], 0);
    } else visit(node.selectionSet, [], 0);
  }
  return names;
}

/**
 * Makes the `omit` of a model's list (connection) or get field: call it with the
 * field's `info`; it answers the same object for the same document.
 */
export function columnsFromSelection(scalarFields: readonly string[], columns: ColumnMap, connection: boolean) {
  // Keyed on the field's first node: one per parsed document (the same text parses to the same document).
  const cache = new WeakMap<FieldNode, { omit?: Record<string, true> }>();
  const omitFor = (selected: Iterable<string>): Record<string, true> | undefined => {
    const needed = new Set(KEY_FIELDS);
    for (const field of selected) {
      const read = columns.get(field);
      if (!read) return undefined; // a field that did not say what it reads: every column
      for (const column of read) needed.add(column);
    }
    const omit: Record<string, true> = {};
    for (const field of scalarFields) if (!needed.has(field)) omit[field] = true;
    return Object.keys(omit).length > 0 ? omit : undefined;
  };
  return (info: GraphQLResolveInfo): { omit?: Record<string, true> } => {
    const key = info.fieldNodes[0];
    let found = cache.get(key);
    if (!found) {
      const omit = omitFor(selectedNodeFields(info, connection));
      found = omit ? { omit } : {};
      cache.set(key, found);
    }
    return found;
  };
}
