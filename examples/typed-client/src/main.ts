import { createClient, RecentProjects } from './client';

/**
 * `TENANTGATE_URL=http://localhost:4000/graphql TENANTGATE_TOKEN=<token> npx tsx examples/typed-client/src/main.ts`
 * (`npm run token -- --raw --email alice@acme.example` prints a token).
 */
async function main(): Promise<void> {
  const url = process.env.TENANTGATE_URL ?? 'http://localhost:4000/graphql';
  const token = process.env.TENANTGATE_TOKEN;
  if (!token) throw new Error('Set TENANTGATE_TOKEN (npm run token -- --raw --email alice@acme.example)');
  const data = await createClient(url, token).request(RecentProjects, { first: 5 });
  // Typed: data.projects.edges[0].node.status is 'ACTIVE' | 'ARCHIVED' | 'COMPLETED'.
  console.log(`${data.viewer.organization?.slug}: ${data.projects.totalCount} projects`);
  for (const { node } of data.projects.edges) console.log(`- ${node.name} (${node.status}, created ${node.createdAt})`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
