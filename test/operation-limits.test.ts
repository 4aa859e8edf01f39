import { errorCodes, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/**
 * Operation limits (src/plugins/use-operation-limits.ts) through the GraphQL
 * endpoint: the attacks of issue 13 replayed (thousands of aliases, 500,000
 * anonymous tokens, 100,000 fragments), refused fast with QUERY_TOO_COMPLEX and
 * executing nothing; limits per plan read from plan_operation_limits; API calls
 * counted by cost.
 */

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;
const statements: string[] = [];
/**
 * A bound for gross regressions only (the attacks took seconds to minutes): on a
 * shared core under a load of 15 a cold path took over a second. The warm figures (a few
 * ms) are measured by bench/noisy-neighbor.ts.
 */
const SLOW = 5_000;

twoOrganizations({ onStatement: (sql) => statements.push(sql) }, (f) => ({ h, acme, globex } = f));
beforeAll(async () => {
  await h.system.prisma.subscription.update({ where: { organizationId: globex.id }, data: { plan: 'PRO' } });
});

const aliases = (n: number, field = 'projects(first: 100) { edges { node { id name } } }') =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** Sends the document and returns the response and the statements it sent (the access check aside). */
async function timed(document: string, token: string | null, variables?: Record<string, unknown>) {
  statements.length = 0;
  const started = performance.now();
  const response = await h.execute(document, { token, variables });
  return { response, ms: performance.now() - started, projectReads: statements.filter((sql) => /"projects"/.test(sql)).length };
}

describe('the attacks of issue 13, replayed', () => {
  it('refuses 2,000 aliases of projects(first: 100) from a member at the token count, executing nothing', async () => {
    await timed('{ viewer { role } }', acme.member.token); // warm: the plan is read once a minute
    const { response, ms, projectReads } = await timed(aliases(2_000), acme.member.token);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', measure: 'tokens', limit: 12_000, measured: 12_001, plan: 'largest' } }),
    ]);
    expect(response.data ?? null).toBeNull();
    expect(projectReads).toBe(0);
    expect(ms).toBeLessThan(SLOW);
  });

  it('refuses 150 aliases of projects(first: 100) with the FREE plan limit, executing nothing', async () => {
    const { response, ms, projectReads } = await timed(aliases(150), acme.member.token);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', measure: 'aliases', limit: 30, measured: 150, plan: 'FREE' } }),
    ]);
    expect(response.data ?? null).toBeNull();
    expect(projectReads).toBe(0);
    expect(ms).toBeLessThan(SLOW);
  });

  it("refuses 12,000 aliases (about 1 MB) at the token count, at the plan's budget once the plan is remembered", async () => {
    // The 150-alias refusal above read acme's plan (FREE): its documents are now lexed to 3,000 tokens, not 12,000.
    const { response, projectReads } = await timed(aliases(12_000), acme.member.token);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'tokens', limit: 3_000, measured: 3_001, plan: 'FREE' });
    expect(projectReads).toBe(0);
  });

  it('gives an anonymous caller 1,000 tokens: 500,000 __typename (5.5 MB) is refused at once', async () => {
    const document = `{ ${'__typename '.repeat(500_000)}}`;
    const { response, ms } = await timed(document, null);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'tokens', limit: 1_000, measured: 1_001, plan: null });
    expect(ms).toBeLessThan(SLOW);
  });

  it('refuses 100,000 fragment definitions at the token count', async () => {
    const fragments = Array.from({ length: 100_000 }, (_, i) => `fragment F${i} on Query { __typename }`).join('\n');
    const { response, ms } = await timed(`{ ...F0 }\n${fragments}`, acme.member.token);
    expect(errorCodes(response)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(ms).toBeLessThan(SLOW);
  });

  it('measures nested fragment spreads once per fragment: 2^20 expansions are refused by cost, fast', async () => {
    const levels = Array.from({ length: 20 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const { response, ms } = await timed(`{ ...F0 }\n${levels}\nfragment F20 on Query { viewer { role } }`, acme.member.token);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'cost' });
    expect(response.errors?.[0].extensions?.measured).toBeGreaterThan(3.5 * 2 ** 20);
    expect(ms).toBeLessThan(SLOW);
  });

  it('still answers introspection and small queries, anonymous or not', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const anonymous = await h.execute(getIntrospectionQuery(), { token: null });
    expect(anonymous.errors).toBeUndefined();
    const member = await h.execute(aliases(3, 'projects(first: 5) { edges { node { id } } }'), { token: acme.member.token });
    expect(member.errors).toBeUndefined();
  });
});

describe('limits per plan, from plan_operation_limits', () => {
  it('lets a PRO organization send 50 aliases that a FREE one may not', async () => {
    const document = aliases(50, 'viewer { role }');
    const free = await h.execute(document, { token: acme.owner.token });
    expect(free.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'aliases', limit: 30, measured: 50 });
    const pro = await h.execute(document, { token: globex.owner.token });
    expect(pro.errors).toBeUndefined();
    expect(Object.keys(pro.data as object)).toHaveLength(50);
  });

  it("never serves one caller's refusal to another: Yoga's validation cache holds no limit's answer", async () => {
    const document = aliases(40, 'viewer { role }');
    const anonymous = await h.execute(document, { token: null });
    expect(anonymous.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'aliases', plan: null });
    const free = await h.execute(document, { token: acme.member.token });
    expect(free.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'aliases', plan: 'FREE' });
    const pro = await h.execute(document, { token: globex.member.token });
    expect(pro.errors).toBeUndefined();
    expect(Object.keys(pro.data as object)).toHaveLength(40);
  });

  it('counts connection pages into the cost, first given as a variable or not at all', async () => {
    const page = (first: string) => `projects${first} { edges { node { id name owner { id name email } } } }`;
    const deep = `query Deep($n: Int) { ${Array.from({ length: 6 }, (_, i) => `a${i}: ${page('(first: $n)')}`).join(' ')} }`;
    const small = await h.execute(deep, { token: acme.member.token, variables: { n: 2 } });
    expect(small.errors).toBeUndefined();
    const large = await h.execute(deep, { token: acme.member.token, variables: { n: 100 } });
    expect(large.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'cost', limit: 20_000 });
    expect(large.errors?.[0].extensions?.measured).toBe(22_913);
    // No first: the default page (20) is counted, not 1: 30 such pages cost 22,913 too.
    const unspecified = await h.execute(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: ${page('')}`).join(' ')} }`, { token: acme.member.token });
    expect(unspecified.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measure: 'cost', measured: 22_913 });
    // A first over the largest page counts as the largest page (Pothos serves no more).
    const clamped = await h.execute(deep.replace('($n: Int)', '').replace(/\$n/g, '1000000'), { token: acme.member.token });
    expect(clamped.errors?.[0].extensions).toMatchObject({ measure: 'cost', measured: 22_913 });
  });
});

describe('API calls by cost', () => {
  it('counts an operation as ceil(cost / 1,000) calls, and a refused one as none', async () => {
    const org = await h.createOrganization('Counted');
    await h.usage.flush();
    const heavy = await h.execute('{ a: projects(first: 100) { edges { node { id name owner { id name } } } } }', { token: org.member.token });
    expect(heavy.errors).toBeUndefined();
    await h.execute('{ viewer { role } }', { token: org.member.token });
    await h.execute(aliases(100, 'viewer { role }'), { token: org.member.token }); // refused
    await h.usage.flush();
    const { _sum } = await h.system.prisma.usageDaily.aggregate({ where: { organizationId: org.id }, _sum: { apiCalls: true } });
    // projects(first: 100) with owners costs 2 + 1.5 × … per row, about 3,200 here: 4 calls, and 1 for the viewer.
    expect(Number(_sum.apiCalls)).toBe(5);
  });
});
