import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { DMMF } from '@prisma/generator-helper';
import { datamodel } from '../src/generated/tenancy-datamodel';
import { MIGRATIONS_DIR } from '../src/db/migrate';
import { assertTenancy, tenancyReport } from '../src/tenancy/check';
import { reportAfterPendingMigrations, tenancyMigrationSql, writeTenancyMigration } from '../src/tenancy/migration';
import { readTenancy, type TenancyDatamodel } from '../src/tenancy/model';
import { testUrls } from './helpers/harness';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';

/**
 * Tenancy is read from the Prisma schema (tenant model: organizationId; global:
 * `/// @global: <reason>`; anything else refused) and checked on PostgreSQL's
 * catalog: the gateway refuses to start when a table is not isolated.
 */

const run = promisify(execFile);
const root = path.join(__dirname, '..');

/** The schema's datamodel with one model changed. */
function withModel(name: string, change: (model: DMMF.Model) => DMMF.Model): TenancyDatamodel {
  return { ...datamodel, models: datamodel.models.map((m) => (m.name === name ? change(m) : m)) };
}

describe('the tenancy reader (DMMF)', () => {
  it('classifies every model of the schema: a tenant model has organizationId, a global one says why', () => {
    const tenancy = readTenancy(datamodel);
    expect(tenancy.refused).toEqual([]);
    expect(tenancy.tenant.map((m) => m.name)).toEqual(expect.arrayContaining(['Project', 'Membership', 'Department']));
    expect(tenancy.global.find((m) => m.name === 'User')?.reason).toMatch(/identity/);
    expect(tenancy.tenant.find((m) => m.name === 'Project')?.primaryKey).toEqual(['organization_id', 'id']);
  });

  it('refuses a model with neither organizationId nor @global, naming both ways out', () => {
    const tenancy = readTenancy(withModel('AddOn', (m) => ({ ...m, documentation: undefined })));
    expect(tenancy.refused).toEqual([{ model: 'AddOn', problem: expect.stringMatching(/has no organizationId field.*@global: <reason>/) }]);
  });

  it('refuses a relation to another tenant model that leaves organizationId out, and a primary key not led by it', () => {
    const tenancy = readTenancy(
      withModel('Project', (m) => ({
        ...m,
        primaryKey: { name: null, fields: ['id', 'organizationId'] },
        fields: m.fields.map((f) => (f.name === 'owner' ? { ...f, relationFromFields: ['ownerId'], relationToFields: ['userId'] } : f)),
      })),
    );
    expect(tenancy.refused.map((r) => r.problem)).toEqual([
      expect.stringContaining('primary key must lead with organizationId'),
      expect.stringContaining('relation owner points at the tenant model Membership without organizationId'),
    ]);
  });
});

describe('the catalog check', () => {
  it("passes on the migrations' schema", async () => {
    const runtime = new pg.Pool({ connectionString: testUrls().runtimeUrl, max: 1 });
    try {
      await expect(assertTenancy(runtime)).resolves.toBeUndefined();
      const report = await tenancyReport(runtime);
      // tenantgate's own tables are named with their schema; the application's (public) without.
      expect(report.tables.find((t) => t.table === 'tenantgate.projects')?.kind).toBe('tenant');
      expect(report.tables.find((t) => t.table === 'tenantgate.users')?.kind).toBe('global');
      expect(report.tables.find((t) => t.table === 'tasks')?.kind).toBe('tenant');
    } finally {
      await runtime.end();
    }
  });

  describe('on a database with tables made by hand', () => {
    let scratch: ScratchDatabase;
    let admin: pg.Client;
    beforeAll(async () => {
      scratch = await createScratchDatabase();
      admin = new pg.Client({ connectionString: scratch.adminUrl });
      await admin.connect();
    });
    afterAll(async () => {
      await admin.end();
      await scratch.drop();
    });

    it('refuses to start, naming the table and what it lacks, when a table has organization_id and no policies; tenancy:check names it too', async () => {
      // The application's tables, in its schema (the scratch admin URL puts tenantgate's first in search_path).
      await admin.query(`CREATE TABLE public.notes (organization_id uuid NOT NULL, id uuid NOT NULL, body text, PRIMARY KEY (organization_id, id))`);
      await admin.query(`GRANT SELECT ON notes TO tenantgate_runtime`);
      const runtime = new pg.Pool({ connectionString: scratch.runtimeUrl, max: 1 });
      try {
        await expect(assertTenancy(runtime)).rejects.toThrow(
          /Refusing to start[\s\S]*table notes: row-level security is not enabled[\s\S]*table notes: row-level security is not forced[\s\S]*table notes: no permissive policy/,
        );
      } finally {
        await runtime.end();
      }
      const check = run('npx', ['tsx', 'scripts/tenancy-check.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: scratch.runtimeUrl, DATABASE_ADMIN_URL: scratch.adminUrl },
      });
      await expect(check).rejects.toMatchObject({ code: 1, stdout: expect.stringMatching(/NOT complete[\s\S]*table notes: row-level security is not enabled/) });

      // ENABLE without FORCE, or a policy that is not scoped, is still refused.
      await admin.query(`ALTER TABLE notes ENABLE ROW LEVEL SECURITY`);
      await admin.query(`CREATE POLICY everyone ON notes USING (true)`);
      const report = await tenancyReport(admin);
      expect(report.tables.find((t) => t.table === 'notes')?.problems).toEqual([
        "row-level security is not forced (FORCE ROW LEVEL SECURITY): the table's owner would bypass it",
        "policy everyone's USING does not compare organization_id with app.current_org_id()",
        "policy everyone's WITH CHECK does not compare organization_id with app.current_org_id()",
      ]);
      await admin.query(`DROP TABLE notes`);
    });

    it('refuses a table the runtime role may read that is neither a tenant table nor declared global, and accepts it once declared in SQL', async () => {
      await admin.query(`CREATE TABLE public.lookup_codes (code text PRIMARY KEY)`);
      // The application's own table, which the gateway cannot reach, is none of its business.
      let report = await tenancyReport(admin);
      expect(report.tables.find((t) => t.table === 'lookup_codes')).toMatchObject({ kind: 'outside', problems: [] });
      await admin.query(`GRANT SELECT ON public.lookup_codes TO tenantgate_runtime`);
      report = await tenancyReport(admin);
      expect(report.tables.find((t) => t.table === 'lookup_codes')?.problems).toEqual([expect.stringMatching(/is neither a tenant table .* nor declared global/)]);
      await admin.query(`COMMENT ON TABLE lookup_codes IS '@global: country codes, the same for everyone'`);
      report = await tenancyReport(admin);
      expect(report.tables.find((t) => t.table === 'lookup_codes')).toMatchObject({ kind: 'global', problems: [] });
      await admin.query(`DROP TABLE lookup_codes`);
    });

    it('refuses a foreign key to a tenant table that leaves organization_id out', async () => {
      await admin.query(`CREATE TABLE public.project_notes (organization_id uuid NOT NULL DEFAULT app.current_org_id(), id uuid NOT NULL, project_id uuid NOT NULL,
        PRIMARY KEY (organization_id, id), UNIQUE (project_id), FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id))`);
      await admin.query(`CREATE UNIQUE INDEX projects_id_only ON projects (id)`);
      await admin.query(`ALTER TABLE project_notes ADD CONSTRAINT project_notes_loose_fkey FOREIGN KEY (project_id) REFERENCES projects (id)`);
      // Readable by the runtime role, so the gateway's business (an unreachable table of the application's is not).
      await admin.query(`GRANT SELECT ON public.project_notes TO tenantgate_runtime`);
      await admin.query(`ALTER TABLE project_notes ENABLE ROW LEVEL SECURITY; ALTER TABLE project_notes FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON project_notes USING (organization_id = app.current_org_id()) WITH CHECK (organization_id = app.current_org_id())`);
      const report = await tenancyReport(admin);
      expect(report.tables.find((t) => t.table === 'project_notes')?.problems).toEqual([
        "foreign key project_notes_loose_fkey (project_id) references the tenant table projects without organization_id: a row could reference another organization's row",
      ]);
      await admin.query(`DROP TABLE project_notes; DROP INDEX projects_id_only`);
    });
  });
});

describe('npm run tenancy:migration', () => {
  it('writes, for a CREATE TABLE migration not applied yet, the committed tasks tenancy migration with its names qualified; the database is left as it was', async () => {
    // The migrations up to the hand-written CREATE TABLE of tasks, applied; that one pending.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tenantgate-migrations-'));
    const all = readdirSync(MIGRATIONS_DIR).filter((n) => /^\d{14}_/.test(n)).sort();
    const upTo = all.indexOf('20261204120100_tasks');
    for (const name of all.slice(0, upTo)) await cp(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
    const scratch = await createScratchDatabase({ migrationsDir: dir });
    try {
      // The CREATE TABLE as the application writes it now (docs/adr/0090-own-schema.md): in its own
      // schema, named; unqualified, the runner would create it in tenantgate's.
      const createTasks = (await readFile(path.join(MIGRATIONS_DIR, all[upTo], 'migration.sql'), 'utf8')).replace(/"(tasks|TaskStatus)"/g, '"public"."$1"');
      await mkdir(path.join(dir, all[upTo]));
      await writeFile(path.join(dir, all[upTo], 'migration.sql'), createTasks);
      const sql = tenancyMigrationSql(await reportAfterPendingMigrations(scratch.adminUrl, { dir }));
      // What tenancy:migration wrote for tasks when every table was in public, now with each table's schema.
      const committed = await readFile(path.join(MIGRATIONS_DIR, '20261204120200_tasks_tenancy', 'migration.sql'), 'utf8');
      expect(sql).toBe(committed.replace(/"tasks"/g, '"public"."tasks"').replace(/REFERENCES "(\w+)"/g, 'REFERENCES "tenantgate"."$1"'));
      const admin = new pg.Client({ connectionString: scratch.adminUrl });
      await admin.connect();
      const { rows } = await admin.query(`SELECT to_regclass('tasks') AS tasks`);
      await admin.end();
      expect(rows).toEqual([{ tasks: null }]);
    } finally {
      await scratch.drop();
      await rm(dir, { recursive: true });
    }
  });
});

describe('the migration tenancy:migration writes', () => {
  it('is named after every existing migration, whatever the clock says (it needs the tables they create)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tenantgate-order-'));
    try {
      await cp(path.join(MIGRATIONS_DIR, '20261204120100_tasks'), path.join(dir, '20301231235959_tickets'), { recursive: true });
      const file = await writeTenancyMigration('SELECT 1;\n', 'tickets_tenancy', { dir, now: new Date('2026-12-04T12:00:00Z') });
      // One more than the latest as a number, as Prisma only sorts the names.
      expect(path.basename(path.dirname(file))).toBe('20301231235960_tickets_tenancy');
      await expect(writeTenancyMigration('SELECT 1;\n', 'Bad Name', { dir, now: new Date() })).rejects.toThrow('--name must be lower-case');
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('tenancy:migration on a database never migrated', () => {
  it('tries every migration in a transaction it rolls back, and says to apply them first when they cannot run together', async () => {
    const scratch = await createScratchDatabase({ migrateIt: false });
    try {
      // 20261204120300 adds the enum value TASKS and 20261204120400 uses it: not in one transaction.
      await expect(reportAfterPendingMigrations(scratch.adminUrl)).rejects.toThrow(/Pending migration 20261204120400_tasks_quota fails .*apply them first with `npm run db:migrate`/);
      const admin = new pg.Client({ connectionString: scratch.adminUrl });
      await admin.connect();
      const { rows } = await admin.query(`SELECT to_regclass('_prisma_migrations') AS runner, to_regclass('organizations') AS organizations`);
      await admin.end();
      expect(rows).toEqual([{ runner: null, organizations: null }]);
    } finally {
      await scratch.drop();
    }
  });
});
