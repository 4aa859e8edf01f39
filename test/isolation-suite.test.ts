import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { checkIsolation, createTestKit, isolationSuite, type TestKit } from '../src/testing/index';
import { tenancyMigrationSql } from '../src/tenancy/migration';
import { tenancyReport } from '../src/tenancy/check';
import type { TenancyDatamodel } from '../src/tenancy/model';
import { testUrls } from './helpers/harness';
import { createScratchDatabase } from './helpers/scratch-database';

/**
 * tenantgate/testing, used on tenantgate itself: the generated isolation suite
 * over every tenant model of prisma/schema.prisma, withUser, and a model that no
 * test names, covered all the same.
 */

// Values the made-up ones would break (CHECK constraints).
const samples: Record<string, Record<string, unknown>> = {
  InvoiceLineItem: { kind: 'SEATS' },
  Event: { type: 'test.sample', actor_type: 'system' },
  Invitation: { email: 'invitee@example.org' },
};
// Every tenant model of the schema, found from the DMMF: no test names one.
isolationSuite({
  connect: testUrls,
  samples,
  // A grant names a row of the shared table by (resource, resource_id): test/sharing-sql.test.ts proves it with three organizations.
  provenElsewhere: { ShareGrant: 'test/sharing-sql.test.ts' },
});

describe('withUser', () => {
  let kit: TestKit;
  beforeAll(async () => {
    kit = await createTestKit(testUrls());
  });
  afterAll(() => kit.close());

  it('runs GraphQL and the tenant client as the user, in the user\'s organization; nests and restores the outer user', async () => {
    const [acme, globex] = [await kit.createOrganization('Acme'), await kit.createOrganization('Globex')];
    const carol = await kit.createUser(acme);
    await kit.withUser(acme.owner, async () => {
      await kit.tenantDb().project.create({ data: { name: 'Acme only', ownerId: acme.owner.id } });
      expect(await kit.graphql('{ viewer { organization { slug } } projects(first: 5) { totalCount } }')).toEqual({
        data: { viewer: { organization: { slug: acme.slug } }, projects: { totalCount: 1 } },
      });

      await kit.withUser(globex.owner, async () => {
        expect(kit.currentUser()?.id).toBe(globex.owner.id);
        expect(await kit.tenantDb().project.count()).toBe(0);
        expect((await kit.graphql<{ projects: { totalCount: number } }>('{ projects(first: 5) { totalCount } }')).data?.projects.totalCount).toBe(0);
      });

      // The outer user again, and a member of the same organization sees the same project.
      expect(kit.currentUser()?.id).toBe(acme.owner.id);
      expect(await kit.tenantDb().project.count()).toBe(1);
      await kit.withUser(carol, async () => expect(await kit.tenantDb().project.count()).toBe(1));
    });
    expect(kit.currentUser()).toBeNull();
    expect(await kit.tenantDb().project.count()).toBe(0);
  });
});

describe('a tenant model that no test names', () => {
  it('is covered by the suite as soon as it is in the schema: failing before its tenancy migration, passing after', async () => {
    // A copy of the schema with one more model, generated into a temporary folder.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tenantgate-widget-'));
    const scratch = await createScratchDatabase();
    try {
      let schema = await readFile(path.join(__dirname, '..', 'prisma', 'schema.prisma'), 'utf8');
      schema = schema
        .replace(/generator (client|pothos) \{[\s\S]*?\n\}\n/g, '')
        .replace('output   = "../src/generated/tenancy-datamodel.ts"', `output   = "${path.join(dir, 'datamodel.ts')}"`)
        .replace(/(\n  tasks +Task\[\]\n)/, '$1  widgets Widget[]\n');
      schema += `
model Widget {
  id             String       @default(uuid(7)) @db.Uuid
  organizationId String       @default(dbgenerated("app.current_org_id()")) @map("organization_id") @db.Uuid
  label          String
  organization   Organization @relation(fields: [organizationId], references: [id], onDelete: Cascade)

  @@id([organizationId, id])
  @@map("widgets")
  @@schema("public")
}
`;
      await writeFile(path.join(dir, 'schema.prisma'), schema);
      await promisify(execFile)('npx', ['prisma', 'generate', '--schema', path.join(dir, 'schema.prisma')], { cwd: path.join(__dirname, '..') });
      const generated = await readFile(path.join(dir, 'datamodel.ts'), 'utf8');
      const datamodel = JSON.parse(JSON.parse(/JSON\.parse\(("(?:[^"\\]|\\.)*")\)/.exec(generated)![1])) as TenancyDatamodel;

      const admin = new pg.Client({ connectionString: scratch.adminUrl });
      await admin.connect();
      try {
        // The CREATE TABLE alone, in the application's schema (docs/adr/0090-own-schema.md): no policy yet. The suite finds the model and fails it.
        await admin.query(`CREATE TABLE public.widgets (id uuid NOT NULL, organization_id uuid NOT NULL, label text NOT NULL)`);
        const options = { adminUrl: scratch.adminUrl, runtimeUrl: scratch.runtimeUrl, datamodel, samples: { InvoiceLineItem: { kind: 'SEATS' }, Event: { type: 'test.sample', actor_type: 'system' }, Invitation: { email: 'invitee@example.org' }, ShareGrant: { resource: 'templates' } } };
        const before = (await checkIsolation(options)).filter((r) => r.model === 'Widget');
        expect(before.filter((r) => r.failure).map((r) => r.check)).toEqual(expect.arrayContaining(["raw SQL sees its own rows and no other organization's"]));

        // What `npm run tenancy:migration` writes, applied: the same suite passes.
        await admin.query(tenancyMigrationSql(await tenancyReport(admin, datamodel))!);
        const after = (await checkIsolation(options)).filter((r) => r.model === 'Widget');
        expect(after.length).toBeGreaterThanOrEqual(5);
        expect(after.filter((r) => r.failure)).toEqual([]);
      } finally {
        await admin.end();
      }
    } finally {
      await scratch.drop();
      await rm(dir, { recursive: true });
    }
  }, 180_000);
});
