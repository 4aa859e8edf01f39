import pg from 'pg';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createDatabase } from '../src/db/client';
import { ensureRuntimeRole, migrate } from '../src/db/migrate';
import { withDatabase } from '../test/setup/database';
import { createSystemDatabase } from '../src/db/system';
import { createOrganization } from '../src/platform/organizations';
import { createGateway } from '../src/yoga';

const server = 'postgresql://postgres@127.0.0.1:5432/postgres';
async function main() {
  const database = `tg_growth_${process.pid}`;
  const role = database;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const adminUrl = withDatabase(server, database);
  const runtimeUrl = withDatabase(server, database, { user: role, password: role });
  try {
    await migrate(adminUrl);
    await ensureRuntimeRole(adminUrl, runtimeUrl);
    const system = createSystemDatabase(adminUrl);
    const org = await createOrganization(system, { slug: 'growth', name: 'G', plan: 'ENTERPRISE' });
    const user = await system.prisma.user.create({ data: { email: 'o@g.example', name: 'O' } });
    await system.prisma.membership.create({ data: { organizationId: org.id, userId: user.id, role: 'OWNER' } });
    const token = await signToken({ secret: 'x'.repeat(40), userId: user.id, organizationId: org.id, expiresIn: '2h' });
    const db = createDatabase({ url: runtimeUrl, max: 10 });
    const g = createGateway({ db, verifyToken: createTokenVerifier({ secret: 'x'.repeat(40) }), logging: false, graphiql: false, usage: false });
    const send = (query: string) => Promise.resolve(g.fetch('http://b/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) })).then((r) => r.text());
    for (const total of [100, 2000, 20000]) {
      await system.pool.query(`ALTER TABLE projects DISABLE TRIGGER USER`);
      await system.pool.query(`INSERT INTO projects (id, organization_id, name, owner_id, updated_at) SELECT gen_random_uuid(), $1, 'p' || i, $2, now() FROM generate_series(1, $3) i`, [org.id, user.id, total - (await system.pool.query(`SELECT count(*)::int c FROM projects`)).rows[0].c]);
      await system.pool.query(`ALTER TABLE projects ENABLE TRIGGER USER`);
      await system.pool.query('ANALYZE');
      for (let i = 0; i < 50; i++) await send('{ projects(first: 20) { edges { node { id name status } } } }');
      const t = performance.now();
      for (let i = 0; i < 200; i++) await send('{ projects(first: 20) { edges { node { id name status } } } }');
      const page = (performance.now() - t) / 200;
      const t2 = performance.now();
      for (let i = 0; i < 100; i++) { const r = await send('mutation { createProject(input: {name: "x"}) { project { id } } }'); if (r.includes('errors')) throw new Error(r); }
      console.log(`${total} projects: page ${page.toFixed(2)} ms, createProject ${((performance.now() - t2) / 100).toFixed(2)} ms`);
    }
    if (process.env.EXPLAIN) {
      await admin.query(`ALTER DATABASE ${database} SET log_min_duration_statement = 0`);
    }
    await g.dispose(); await db.close(); await system.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
