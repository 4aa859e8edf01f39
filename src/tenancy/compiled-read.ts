import type { DMMF } from '@prisma/generator-helper';
import type { TenantClient } from '../db/tenant';
import { datamodel } from '../generated/tenancy-datamodel';

/**
 * The read path of a query's lists and gets, compiled by the gateway: a Prisma
 * `findMany` / `findFirst` / `findUnique` argument object (what Pothos builds
 * from the selection: `include`, `omit`, `select`, `where`, `orderBy`, `cursor`,
 * `take`, `skip`) turned into one SQL statement whose rows come back as arrays
 * and are shaped here exactly as Prisma would return them.
 *
 * Why: Prisma's runtime (rendering SQL from its query plan, then mapping every
 * row twice, through JSON for a joined relation) was the largest item of a page
 * request's CPU after HTTP (docs/adr/0096-compiled-reads.md has the figures).
 *
 * What it keeps: the statement runs in the request's read transaction, on its
 * held connection (`TenantClient.$readRows`), scoped by the same SET LOCALs, so
 * row-level security filters it like any other statement: nothing here names
 * the organization unless the caller's `where` does. It is a named prepared
 * statement like Prisma's (one per text, capped). Anything this file does not
 * know (a to-many relation, `_count`, OR/NOT, a Decimal or Bytes column, a
 * cursor over a nullable column, …) compiles to null and the caller runs
 * Prisma's operation instead: the shapes covered are the ones the tenant
 * models' lists and gets produce, and test/compiled-read.test.ts compares them
 * with Prisma's results row for row.
 */

interface Column {
  field: string;
  column: string;
  nullable: boolean;
}

interface Relation {
  target: string;
  /** This table's columns and the target's, pairwise (the foreign key). */
  from: string[];
  to: string[];
}

interface ModelInfo {
  ref: string;
  /** Every scalar field this file can decode, by field name. */
  scalars: Map<string, Column>;
  /** Scalar fields it cannot (an include of the model then falls back unless they are omitted). */
  unsupported: Set<string>;
  /** To-one relations whose foreign key is on this model's side. */
  relations: Map<string, Relation>;
  /** Compound unique keys by Prisma's name (`organizationId_id`): their fields. */
  uniques: Map<string, string[]>;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

const MAPPED_ENUMS = new Set(datamodel.mappedEnums ?? []);
/** Native types per Prisma type whose text node-postgres reads as Prisma does (no native type: Prisma's default). */
const NATIVE: Record<string, readonly string[]> = {
  String: ['Uuid', 'Text', 'VarChar', 'Char', 'Citext'],
  Int: ['Integer', 'SmallInt'],
  Float: ['DoublePrecision', 'Real'],
  Boolean: ['Boolean'],
  DateTime: ['Timestamptz', 'Timestamp', 'Date'],
  Json: ['Json', 'JsonB'],
  BigInt: ['BigInt'],
};

/**
 * Columns whose text form node-postgres (with src/db's read parsers) turns into
 * what Prisma returns: strings, numbers, booleans, Dates, parsed JSON, bigint,
 * enums stored under their own names. Lists only of strings and integers,
 * which node-postgres parses. Not: Decimal, Bytes, `time`, an enum with `@map`
 * values, enum lists.
 */
function supported(field: DMMF.Field): boolean {
  if (field.kind === 'enum') return !field.isList && !MAPPED_ENUMS.has(field.type);
  const native = NATIVE[field.type];
  if (!native || (field.nativeType && !native.includes(field.nativeType[0]))) return false;
  return !field.isList || field.type === 'String' || field.type === 'Int';
}

function readModels(): Map<string, ModelInfo> {
  const byName = new Map(datamodel.models.map((m) => [m.name, m]));
  const models = new Map<string, ModelInfo>();
  for (const model of datamodel.models) {
    const columnOf = (name: string) => model.fields.find((f) => f.name === name)?.dbName ?? name;
    const info: ModelInfo = {
      ref: `${quote(model.schema ?? 'public')}.${quote(model.dbName ?? model.name)}`,
      scalars: new Map(),
      unsupported: new Set(),
      relations: new Map(),
      uniques: new Map(),
    };
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const target = byName.get(field.type);
        if (field.isList || !target || !field.relationFromFields?.length) continue;
        const targetColumn = (name: string) => target.fields.find((f) => f.name === name)?.dbName ?? name;
        info.relations.set(field.name, { target: target.name, from: field.relationFromFields.map(columnOf), to: (field.relationToFields ?? []).map(targetColumn) });
      } else if (supported(field)) info.scalars.set(field.name, { field: field.name, column: field.dbName ?? field.name, nullable: !field.isRequired });
      else info.unsupported.add(field.name);
    }
    const compound = (fields: readonly string[], name?: string | null) => info.uniques.set(name ?? fields.join('_'), [...fields]);
    if (model.primaryKey) compound(model.primaryKey.fields, model.primaryKey.name);
    for (const fields of model.uniqueFields) compound(fields);
    for (const index of model.uniqueIndexes) compound(index.fields, index.name);
    models.set(model.name, info);
  }
  return models;
}

const MODELS = readModels();

/** A compiled read: the statement, and how its rows become Prisma's objects. */
export interface CompiledRead {
  text: string;
  values: unknown[];
  /** The statement's rows (arrays, in the select list's order) as Prisma returns them. */
  decode(rows: readonly unknown[][]): Record<string, unknown>[];
}

/** Where a node of the selection's values sit in a row. */
interface Shape {
  fields: string[];
  /** Index of the first field in the row. */
  start: number;
  /** Index of the presence column of a joined relation (null when the relation's row is missing); -1 for the root. */
  present: number;
  relations: [string, Shape][];
}

/** Thrown (one instance: no stack captured per throw) where the arguments leave the shapes this file compiles. */
const UNSUPPORTED = new Error('compiled-read: a shape this file does not compile');
const give = (): never => {
  throw UNSUPPORTED;
};

interface Build {
  select: string[];
  joins: string[];
  values: unknown[];
  aliases: number;
}

/** `$n` for a value. Dates as UTC text: right for timestamptz, and for timestamp and date Prisma's own convention. */
function param(build: Build, value: unknown): string {
  if (value === undefined) give();
  build.values.push(value instanceof Date ? value.toISOString() : value);
  return `$${build.values.length}`;
}

/**
 * The selection of `args` (its `select`, or `include` with `omit`) on `model`:
 * its columns go to the select list, its relations to lateral joins.
 */
function selection(build: Build, model: ModelInfo, alias: string, args: Record<string, unknown>, present: number): Shape {
  const shape: Shape = { fields: [], start: build.select.length, present, relations: [] };
  const relations: [string, unknown][] = [];
  if (args.select !== undefined) {
    if (args.include !== undefined || args.omit !== undefined || typeof args.select !== 'object' || args.select === null) give();
    for (const [field, value] of Object.entries(args.select as Record<string, unknown>)) {
      if (value === false || value === undefined) continue;
      if (model.scalars.has(field) && value === true) shape.fields.push(field);
      else if (model.relations.has(field)) relations.push([field, value]);
      else give();
    }
  } else {
    const omit = (args.omit ?? {}) as Record<string, unknown>;
    if (typeof omit !== 'object') give();
    for (const field of Object.keys(omit)) if (!model.scalars.has(field) && !model.unsupported.has(field)) give();
    for (const field of model.unsupported) if (omit[field] !== true) give();
    for (const field of model.scalars.keys()) if (omit[field] !== true) shape.fields.push(field);
    if (args.include !== undefined) {
      if (typeof args.include !== 'object' || args.include === null) give();
      for (const [field, value] of Object.entries(args.include as Record<string, unknown>)) {
        if (value === false || value === undefined) continue;
        if (!model.relations.has(field)) give();
        relations.push([field, value]);
      }
    }
  }
  for (const field of shape.fields) build.select.push(`${alias}.${quote(model.scalars.get(field)!.column)}`);
  for (const [field, value] of relations) shape.relations.push([field, join(build, model, alias, field, value)]);
  return shape;
}

/**
 * A to-one relation as `LEFT JOIN LATERAL (SELECT … WHERE <foreign key>) ON
 * true`, as Prisma's join strategy reads it: the target's rows are looked up
 * per row of the page (after its LIMIT), never joined as a whole, and RLS
 * filters the target's table too (a hidden target reads as null).
 */
function join(build: Build, model: ModelInfo, parent: string, field: string, value: unknown): Shape {
  const relation = model.relations.get(field)!;
  const target = MODELS.get(relation.target)!;
  const args = value === true ? {} : (value as Record<string, unknown>);
  if (typeof args !== 'object' || args === null) give();
  for (const key of Object.keys(args)) if (key !== 'select' && key !== 'include' && key !== 'omit') give();
  const alias = quote(`j${(build.aliases += 1)}`);
  const on = relation.from.map((from, i) => `${alias}.${quote(relation.to[i])} = ${parent}.${quote(from)}`).join(' AND ');
  // The join's place is taken now: a nested relation's join refers to this one, so it must come after it.
  const slot = build.joins.push('') - 1;
  const present = build.select.length;
  build.select.push(`${alias}."tg_present"`);
  const shape = selection(build, target, alias, args, present);
  // The subquery reads the columns selected and the keys of the relations below it, nothing else.
  const columns = new Set(shape.fields.map((f) => target.scalars.get(f)!.column));
  for (const [field] of shape.relations) for (const from of target.relations.get(field)!.from) columns.add(from);
  const list = ['true AS "tg_present"', ...[...columns].map((c) => `${alias}.${quote(c)}`)].join(', ');
  build.joins[slot] = `LEFT JOIN LATERAL (SELECT ${list} FROM ${target.ref} AS ${alias} WHERE ${on}) AS ${alias} ON true`;
  return shape;
}

const OPERATORS: Record<string, string> = { equals: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The `where` of `args` on `alias` (the root's, or the cursor row's): equalities, ranges, `in`, AND, compound unique keys. */
function conditions(build: Build, model: ModelInfo, alias: string, where: unknown, out: string[]): void {
  if (where === undefined || where === null) return;
  if (typeof where !== 'object') give();
  for (const [key, value] of Object.entries(where as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (key === 'AND') {
      for (const part of Array.isArray(value) ? value : [value]) conditions(build, model, alias, part, out);
      continue;
    }
    const unique = model.uniques.get(key);
    if (unique && !model.scalars.has(key)) {
      if (typeof value !== 'object' || value === null) give();
      for (const field of unique) condition(build, model, alias, field, (value as Record<string, unknown>)[field], out);
      continue;
    }
    condition(build, model, alias, key, value, out);
  }
}

function condition(build: Build, model: ModelInfo, alias: string, field: string, value: unknown, out: string[]): void {
  const column = model.scalars.get(field);
  if (!column || value === undefined) give();
  const ref = `${alias}.${quote(column!.column)}`;
  if (value === null) {
    out.push(`${ref} IS NULL`);
    return;
  }
  if (typeof value !== 'object' || value instanceof Date) {
    out.push(`${ref} = ${param(build, value)}`);
    return;
  }
  if (Array.isArray(value)) give();
  for (const [operator, operand] of Object.entries(value as Record<string, unknown>)) {
    if (operand === undefined) continue;
    if (operator === 'in') {
      if (!Array.isArray(operand) || operand.some((v) => v === null || typeof v === 'object')) give();
      out.push(`${ref} = ANY(${param(build, operand)})`);
    } else if (OPERATORS[operator] && operand !== null && (typeof operand !== 'object' || operand instanceof Date)) {
      out.push(`${ref} ${OPERATORS[operator]} ${param(build, operand)}`);
    } else give();
  }
}

type Order = [Column, 'asc' | 'desc'];

function orderOf(model: ModelInfo, orderBy: unknown): Order[] {
  if (orderBy === undefined) return [];
  const entries = Array.isArray(orderBy) ? orderBy : [orderBy];
  return entries.map((entry): Order => {
    const pairs = Object.entries((entry ?? {}) as Record<string, unknown>);
    if (pairs.length !== 1) give();
    const [field, direction] = pairs[0];
    const column = model.scalars.get(field);
    if (!column || (direction !== 'asc' && direction !== 'desc')) give();
    return [column!, direction as 'asc' | 'desc'];
  });
}

/**
 * Prisma's cursor: the rows from the cursor's row on, in the order asked (the
 * cursor's row included; Pothos skips it). As one row comparison against the
 * cursor's row, read by its unique key: an index condition. A cursor whose row
 * is not there compares with NULL: no rows, as Prisma. Compiled only when every
 * order column runs the same way and none is nullable.
 */
function cursorCondition(build: Build, model: ModelInfo, cursor: unknown, order: Order[], out: string[]): void {
  if (cursor === undefined) return;
  if (order.length === 0 || order.some(([column, direction]) => column.nullable || direction !== order[0][1])) give();
  const key: string[] = [];
  conditions(build, model, '"c0"', cursor, key);
  const columns = order.map(([column]) => quote(column.column));
  const own = order.map(([column]) => `"t0".${quote(column.column)}`);
  const where = key.join(' AND ');
  const operator = order[0][1] === 'asc' ? '>=' : '<=';
  const lhs = own.length === 1 ? own[0] : `(${own.join(', ')})`;
  out.push(`${lhs} ${operator} (SELECT ${columns.map((c) => `"c0".${c}`).join(', ')} FROM ${model.ref} AS "c0" WHERE ${where})`);
}

function decodeShape(shape: Shape, row: readonly unknown[]): Record<string, unknown> | null {
  if (shape.present >= 0 && row[shape.present] !== true) return null;
  const result: Record<string, unknown> = {};
  const { fields, start } = shape;
  for (let i = 0; i < fields.length; i += 1) result[fields[i]] = row[start + i];
  for (const [field, relation] of shape.relations) result[field] = decodeShape(relation, row);
  return result;
}

const ALLOWED = new Set(['select', 'include', 'omit', 'where', 'orderBy', 'cursor', 'take', 'skip']);

/**
 * `findMany(args)` (or, with `single`, `findFirst` / `findUnique`: at most one
 * row) of `modelName` as one statement; null when the shape is not one this
 * file compiles.
 */
export function compileRead(modelName: string, args: Record<string, unknown>, single = false): CompiledRead | null {
  const model = MODELS.get(modelName);
  if (!model) return null;
  try {
    for (const key of Object.keys(args)) if (args[key] !== undefined && !ALLOWED.has(key)) give();
    const build: Build = { select: [], joins: [], values: [], aliases: 0 };
    const root = selection(build, model, '"t0"', args, -1);
    const where: string[] = [];
    conditions(build, model, '"t0"', args.where, where);
    const take = single ? 1 : args.take;
    const skip = args.skip ?? 0;
    if ((take !== undefined && !Number.isSafeInteger(take)) || !Number.isSafeInteger(skip) || (skip as number) < 0) give();
    const backwards = typeof take === 'number' && take < 0;
    const order = orderOf(model, args.orderBy).map(([column, direction]): Order => [column, backwards ? (direction === 'asc' ? 'desc' : 'asc') : direction]);
    if (backwards && order.length === 0) give();
    cursorCondition(build, model, args.cursor, order, where);
    let text = `SELECT ${build.select.join(', ')} FROM ${model.ref} AS "t0"`;
    if (build.joins.length) text += ` ${build.joins.join(' ')}`;
    if (where.length) text += ` WHERE ${where.join(' AND ')}`;
    if (order.length) text += ` ORDER BY ${order.map(([column, direction]) => `"t0".${quote(column.column)} ${direction.toUpperCase()}`).join(', ')}`;
    if (take !== undefined) text += ` LIMIT ${param(build, Math.abs(take as number))}`;
    if ((skip as number) > 0) text += ` OFFSET ${param(build, skip)}`;
    const decode = (rows: readonly unknown[][]) => {
      const result = new Array<Record<string, unknown>>(rows.length);
      for (let i = 0; i < rows.length; i += 1) result[backwards ? rows.length - 1 - i : i] = decodeShape(root, rows[i])!;
      return result;
    };
    return { text, values: build.values, decode };
  } catch (error) {
    if (error === UNSUPPORTED) return null;
    throw error;
  }
}

/** What the compiled reads fall back to: a model's delegate on the tenant client. */
interface Finder {
  findMany(args: object): PromiseLike<unknown>;
  findFirst(args: object): PromiseLike<unknown>;
  findUnique(args: object): PromiseLike<unknown>;
}

function delegateOf(client: TenantClient, modelName: string): Finder {
  return Reflect.get(client, modelName[0].toLowerCase() + modelName.slice(1)) as Finder;
}

/**
 * `findMany(args)` of a model on the request's tenant client: compiled when the
 * client holds a query's read transaction and the shape compiles, Prisma's
 * operation otherwise. Same rows either way.
 */
export async function findMany(client: TenantClient, modelName: string, args: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const compiled = client.$compiledReads ? compileRead(modelName, args) : null;
  const rows = compiled && client.$readRows(compiled);
  if (rows) return compiled.decode(await rows);
  return (await delegateOf(client, modelName).findMany(args)) as Record<string, unknown>[];
}

/** `findFirst(args)` (or `findUnique`, with `unique`), the same way. */
export async function findOne(client: TenantClient, modelName: string, args: Record<string, unknown>, unique = false): Promise<Record<string, unknown> | null> {
  const compiled = client.$compiledReads ? compileRead(modelName, args, true) : null;
  const rows = compiled && client.$readRows(compiled);
  if (rows) return compiled.decode(await rows)[0] ?? null;
  const delegate = delegateOf(client, modelName);
  return (await (unique ? delegate.findUnique(args) : delegate.findFirst(args))) as Record<string, unknown> | null;
}
