import type { DMMF } from '@prisma/generator-helper';

/**
 * Which models of prisma/schema.prisma are tenant models, read from Prisma's
 * datamodel (DMMF, written by src/tenancy/generator.ts):
 *
 * - a model with an `organizationId` field is a tenant model: its rows belong to
 *   one organization, and everything tenancy needs is derived from the model;
 * - a model with a `/// @global: <reason>` doc comment is global on purpose;
 * - any other model is refused: forgetting `organizationId` must not silently
 *   make a table readable by every organization.
 */

export interface TenancyDatamodel {
  models: DMMF.Model[];
  enums: string[];
  /** Enums one of whose values is stored under another name (`@map`). */
  mappedEnums?: string[];
  indexes: DMMF.Index[];
}

export const ORGANIZATION_FIELD = 'organizationId';
export const ORGANIZATION_COLUMN = 'organization_id';

const GLOBAL_TAG = /^@global:\s*(\S.*)$/m;
// A tenant model's index that does not lead with organizationId, on purpose: `/// @cross-tenant-index: userId <reason>`.
const CROSS_TENANT_INDEX_TAG = /^@cross-tenant-index:\s*(\w+)\s+\S/gm;

export interface TenantRelation {
  field: string;
  target: string;
  targetTable: string;
  /** The target model's schema (tenantgate's, or the application's). */
  targetSchema: string;
  /** Columns of this table, in the foreign key's order. */
  columns: string[];
  /** The referenced columns of the target table. */
  targetColumns: string[];
  targetIsTenant: boolean;
  required: boolean;
  onDelete?: string;
}

export interface TenantModel {
  name: string;
  table: string;
  schema: string;
  /** Primary key columns, organization_id first. */
  primaryKey: string[];
  /** Primary key fields (Prisma names), organizationId first. */
  primaryKeyFields: string[];
  relations: TenantRelation[];
  /** Column of each scalar field, by field name. */
  columns: Record<string, string>;
  /** Indexes declared in the schema (columns in order), the primary key aside. */
  indexes: { columns: string[]; unique: boolean }[];
  /** The scalar field restricting a row to a department (`restrictedToDepartmentId`), when the model has one. */
  departmentField?: string;
  model: DMMF.Model;
}

export interface GlobalModel {
  name: string;
  table: string;
  schema: string;
  reason: string;
}

export interface Refusal {
  model: string;
  problem: string;
}

export interface Tenancy {
  tenant: TenantModel[];
  global: GlobalModel[];
  refused: Refusal[];
  /** Schemas that hold the application's tables. */
  schemas: string[];
}

const tableOf = (model: DMMF.Model) => model.dbName ?? model.name;
const schemaOf = (model: DMMF.Model) => model.schema ?? 'public';

export function readTenancy(datamodel: TenancyDatamodel): Tenancy {
  const byName = new Map(datamodel.models.map((m) => [m.name, m]));
  const isTenant = (m: DMMF.Model | undefined) => !!m?.fields.some((f) => f.name === ORGANIZATION_FIELD && f.kind === 'scalar');
  const result: Tenancy = { tenant: [], global: [], refused: [], schemas: [] };

  for (const model of datamodel.models) {
    const global = GLOBAL_TAG.exec(model.documentation ?? '');
    const refuse = (problem: string) => result.refused.push({ model: model.name, problem });
    if (!isTenant(model)) {
      if (global) result.global.push({ name: model.name, table: tableOf(model), schema: schemaOf(model), reason: global[1].trim() });
      else refuse(`has no ${ORGANIZATION_FIELD} field: add \`${ORGANIZATION_FIELD} String @default(dbgenerated("app.current_org_id()")) @map("${ORGANIZATION_COLUMN}") @db.Uuid\` to make it a tenant model, or declare it global on purpose with a \`/// @global: <reason>\` doc comment`);
      continue;
    }
    if (global) {
      refuse(`has an ${ORGANIZATION_FIELD} field and a @global declaration: it is one or the other`);
      continue;
    }
    const columns: Record<string, string> = {};
    for (const field of model.fields) if (field.kind !== 'object') columns[field.name] = field.dbName ?? field.name;
    const problems: string[] = [];

    const orgField = model.fields.find((f) => f.name === ORGANIZATION_FIELD)!;
    if (columns[ORGANIZATION_FIELD] !== ORGANIZATION_COLUMN) problems.push(`${ORGANIZATION_FIELD} must be mapped to the column "${ORGANIZATION_COLUMN}" (@map("${ORGANIZATION_COLUMN}"))`);
    if (!orgField.isRequired || orgField.type !== 'String' || orgField.nativeType?.[0] !== 'Uuid') problems.push(`${ORGANIZATION_FIELD} must be a required String @db.Uuid`);

    const idField = model.fields.find((f) => f.isId);
    const primaryKeyFields = model.primaryKey ? [...model.primaryKey.fields] : idField ? [idField.name] : [];
    if (primaryKeyFields[0] !== ORGANIZATION_FIELD) {
      const rest = primaryKeyFields.filter((f) => f !== ORGANIZATION_FIELD);
      problems.push(`its primary key must lead with ${ORGANIZATION_FIELD}: declare @@id([${[ORGANIZATION_FIELD, ...(rest.length ? rest : ['id'])].join(', ')}])`);
    }

    const relations: TenantRelation[] = [];
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = byName.get(field.type)!;
      const targetColumns = (field.relationToFields ?? []).map((name) => target.fields.find((f) => f.name === name)?.dbName ?? name);
      const relation: TenantRelation = {
        field: field.name,
        target: target.name,
        targetTable: tableOf(target),
        targetSchema: schemaOf(target),
        columns: field.relationFromFields.map((name) => columns[name]),
        targetColumns,
        targetIsTenant: isTenant(target),
        required: field.isRequired,
        onDelete: field.relationOnDelete,
      };
      relations.push(relation);
      if (relation.targetIsTenant) {
        const pairs = field.relationFromFields.map((from, i) => [from, field.relationToFields?.[i]]);
        if (!pairs.some(([from, to]) => from === ORGANIZATION_FIELD && to === ORGANIZATION_FIELD)) {
          problems.push(
            `relation ${field.name} points at the tenant model ${target.name} without ${ORGANIZATION_FIELD}: declare @relation(fields: [${ORGANIZATION_FIELD}, ${field.relationFromFields.filter((f) => f !== ORGANIZATION_FIELD).join(', ')}], references: [${ORGANIZATION_FIELD}, ${(field.relationToFields ?? []).filter((f) => f !== ORGANIZATION_FIELD).join(', ')}]) so a row can only reference its own organization's rows`,
          );
        }
      }
    }

    const crossTenant = new Set([...(model.documentation ?? '').matchAll(CROSS_TENANT_INDEX_TAG)].map((m) => m[1]));
    const indexes: TenantModel['indexes'] = [];
    for (const index of datamodel.indexes.filter((i) => i.model === model.name && i.type !== 'id')) {
      const fields = index.fields.map((f) => f.name);
      indexes.push({ columns: fields.map((f) => columns[f]), unique: index.type === 'unique' });
      if (fields[0] !== ORGANIZATION_FIELD && !crossTenant.has(fields[0])) {
        problems.push(`index on (${fields.join(', ')}) does not lead with ${ORGANIZATION_FIELD}: lead with it, or document why with \`/// @cross-tenant-index: ${fields[0]} <reason>\``);
      }
    }

    for (const problem of problems) refuse(problem);
    if (problems.length) continue;
    result.tenant.push({
      name: model.name,
      table: tableOf(model),
      schema: schemaOf(model),
      primaryKey: primaryKeyFields.map((f) => columns[f]),
      primaryKeyFields,
      relations,
      columns,
      indexes,
      departmentField: columns.restrictedToDepartmentId ? 'restrictedToDepartmentId' : undefined,
      model,
    });
  }
  result.schemas = [...new Set([...datamodel.models.map(schemaOf)])].sort();
  return result;
}

/** The report of the refused models, one line each. */
export function describeRefusals(refused: Refusal[]): string[] {
  return refused.map((r) => `model ${r.model}: ${r.problem}`);
}
