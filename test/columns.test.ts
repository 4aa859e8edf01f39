import { Kind, parse, type FragmentDefinitionNode, type GraphQLResolveInfo, type OperationDefinitionNode, type FieldNode } from 'graphql';
import { columnsFromSelection } from '../src/tenancy/columns';

/** Which columns a list or get omits, from its selection alone (no database: src/tenancy/columns.ts is pure). */
const SCALARS = ['organizationId', 'id', 'name', 'status', 'ownerId', 'createdAt', 'sharedReadOrgIds'];
const COLUMNS = new Map<string, readonly string[]>([['id', []], ['__typename', []], ['name', ['name']], ['status', ['status']], ['owner', ['ownerId']]]);

function infoOf(query: string): GraphQLResolveInfo {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments } as unknown as GraphQLResolveInfo;
}

it('a connection omits what its nodes do not read, through fragments; the key is always read', () => {
  const omit = columnsFromSelection(SCALARS, COLUMNS, true);
  expect(omit(infoOf('{ projects { edges { node { id name } } } }'))).toEqual({ omit: { status: true, ownerId: true, createdAt: true, sharedReadOrgIds: true } });
  expect(omit(infoOf('{ projects { nodes { ... on Project { status } ...O } } } fragment O on Project { owner { email } }'))).toEqual({ omit: { name: true, createdAt: true, sharedReadOrgIds: true } });
});

it('a get reads what its own selection needs', () => {
  const omit = columnsFromSelection(SCALARS, COLUMNS, false);
  expect(omit(infoOf('{ project(id: "x") { id status } }'))).toEqual({ omit: { name: true, ownerId: true, createdAt: true, sharedReadOrgIds: true } });
});

it('a selected field that did not declare its columns reads every column', () => {
  const omit = columnsFromSelection(SCALARS, COLUMNS, true);
  expect(omit(infoOf('{ projects { edges { node { id undeclared } } } }'))).toEqual({});
});

it('answers the same object for the same document (one walk per parsed document)', () => {
  const omit = columnsFromSelection(SCALARS, COLUMNS, true);
  const info = infoOf('{ projects { edges { node { id } } } }');
  expect(omit(info)).toBe(omit(info));
});
