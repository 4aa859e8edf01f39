import { writeAccess, withinEntitlements, unpaidSwitchOns } from '../src/billing/entitlements';
import { readSettings } from '../src/settings';
import { errorCodes, startHarness, type Harness, type TestOrganization } from './helpers/harness';

/**
 * What is paid is what is enforced (issue 13, item 5), replayed as the attacks
 * were: settings cannot switch on what is not bought, a subscription change
 * switches off what it drops, PAST_DUE turns read-only after its grace period,
 * and a CANCELED organization can neither write nor change its own plan.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const UpdateSettings = `mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { organization { settings { features { advancedAnalytics } security { enforceSSO } } } } }`;
const UpdateSubscription = `mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { organization { subscription { plan addOns } } } }`;
const Analytics = '{ analytics { __typename } }';
const CreateProject = 'mutation { createProject(input: { name: "Paid" }) { project { id } } }';

async function settingsOf(org: TestOrganization) {
  return readSettings((await h.system.prisma.organization.findUniqueOrThrow({ where: { id: org.id } })).settings);
}

describe('paid settings', () => {
  it.each([
    ['advancedAnalytics', { features: { advancedAnalytics: true } }, 'advanced-analytics', 'features.advancedAnalytics'],
    ['enforceSSO', { security: { enforceSSO: true } }, 'sso', 'security.enforceSSO'],
  ])('%s cannot be switched on without its add-on: FORBIDDEN naming it, nothing written', async (_, settings, addOn, setting) => {
    const org = await h.createOrganization();
    for (const token of [org.owner.token, org.admin.token]) {
      const response = await h.execute(UpdateSettings, { token, variables: { input: { settings } } });
      expect(response.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', addOn, setting }) })]);
      expect(response.errors?.[0].message).toContain(`the ${addOn} add-on`);
    }
    const stored = await settingsOf(org);
    expect([stored.features.advancedAnalytics, stored.security.enforceSSO]).toEqual([false, false]);
    // So a FREE organization does not get analytics.
    expect(errorCodes(await h.execute(Analytics, { token: org.member.token }))).toEqual(['FORBIDDEN']);
  });

  it('can be switched on with the add-on, or on the plan that includes it, and switched off at will', async () => {
    const org = await h.createOrganization();
    expect((await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { addOns: ['advanced-analytics'] } } })).errors).toBeUndefined();
    const on = await h.execute(UpdateSettings, { token: org.admin.token, variables: { input: { settings: { features: { advancedAnalytics: true } } } } });
    expect(on.errors).toBeUndefined();
    expect(errorCodes(await h.execute(Analytics, { token: org.member.token }))).toEqual([]);
    const off = await h.execute(UpdateSettings, { token: org.admin.token, variables: { input: { settings: { features: { advancedAnalytics: false } } } } });
    expect(off.errors).toBeUndefined();

    const enterprise = await h.createOrganization();
    await h.system.prisma.subscription.update({ where: { organizationId: enterprise.id }, data: { plan: 'ENTERPRISE' } });
    const sso = await h.execute(UpdateSettings, { token: enterprise.owner.token, variables: { input: { settings: { security: { enforceSSO: true } } } } });
    expect(sso.errors).toBeUndefined();
  });

  it('a subscription change that drops the add-on switches the setting off with it; another organization keeps its own', async () => {
    const [org, other] = [await h.createOrganization(), await h.createOrganization()];
    for (const o of [org, other]) {
      await h.execute(UpdateSubscription, { token: o.owner.token, variables: { input: { addOns: ['advanced-analytics'] } } });
      await h.execute(UpdateSettings, { token: o.owner.token, variables: { input: { settings: { features: { advancedAnalytics: true } } } } });
    }
    expect((await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { addOns: [] } } })).errors).toBeUndefined();
    expect((await settingsOf(org)).features.advancedAnalytics).toBe(false);
    expect(errorCodes(await h.execute(Analytics, { token: org.member.token }))).toEqual(['FORBIDDEN']);
    expect((await settingsOf(other)).features.advancedAnalytics).toBe(true);
    expect(errorCodes(await h.execute(Analytics, { token: other.member.token }))).toEqual([]);
  });
});

describe('past due and canceled', () => {
  const DAY = 86_400_000;

  it('PAST_DUE writes during its grace period, then is read-only: PAYMENT_REQUIRED, 402, reads still work', async () => {
    const [graced, org, other] = [await h.createOrganization(), await h.createOrganization(), await h.createOrganization()];
    await h.system.prisma.subscription.update({ where: { organizationId: graced.id }, data: { status: 'PAST_DUE', pastDueSince: new Date(Date.now() - 3 * DAY) } });
    expect((await h.execute(CreateProject, { token: graced.member.token })).errors).toBeUndefined();

    // (Another organization: the gate remembers a status for 10 s.)
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { status: 'PAST_DUE', pastDueSince: new Date(Date.now() - 15 * DAY) } });
    await h.system.prisma.project.create({ data: { organizationId: org.id, ownerId: org.owner.id, name: 'Before' } });
    const refused = await h.execute(CreateProject, { token: org.member.token });
    expect(refused.status).toBe(402);
    expect(errorCodes(refused)).toEqual(['PAYMENT_REQUIRED']);
    expect(await h.system.prisma.project.count({ where: { organizationId: org.id } })).toBe(1);
    expect((await h.execute('{ projects(first: 5) { totalCount } }', { token: org.member.token })).data).toEqual({ projects: { totalCount: 1 } });
    // The other organization is untouched.
    expect((await h.execute(CreateProject, { token: other.member.token })).errors).toBeUndefined();
  });

  it('CANCELED: the owner cannot switch itself to ENTERPRISE, nor write anything', async () => {
    const org = await h.createOrganization();
    await h.system.prisma.subscription.update({ where: { organizationId: org.id }, data: { status: 'CANCELED' } });
    const upgrade = await h.execute(UpdateSubscription, { token: org.owner.token, variables: { input: { plan: 'ENTERPRISE' } } });
    expect(upgrade.status).toBe(402);
    expect(errorCodes(upgrade)).toEqual(['PAYMENT_REQUIRED']);
    expect(await h.system.prisma.subscription.findUniqueOrThrow({ where: { organizationId: org.id } })).toMatchObject({ plan: 'FREE', status: 'CANCELED' });
    expect(errorCodes(await h.execute(CreateProject, { token: org.owner.token }))).toEqual(['PAYMENT_REQUIRED']);
  });
});

describe('the rules, without a database', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  it('writeAccess', () => {
    expect(writeAccess({ status: 'ACTIVE', pastDueSince: null }, now)).toEqual({ allowed: true });
    expect(writeAccess({ status: 'TRIALING', pastDueSince: null }, now)).toEqual({ allowed: true });
    expect(writeAccess({ status: 'PAST_DUE', pastDueSince: new Date(now - 13.9 * 86_400_000) }, now)).toEqual({ allowed: true });
    expect(writeAccess({ status: 'PAST_DUE', pastDueSince: new Date(now - 14 * 86_400_000) }, now).allowed).toBe(false);
    expect(writeAccess({ status: 'PAST_DUE', pastDueSince: new Date(now - 2 * 86_400_000) }, now, 1).allowed).toBe(false);
    expect(writeAccess({ status: 'CANCELED', pastDueSince: null }, now).allowed).toBe(false);
  });

  it('entitlements: CANCELED includes nothing; a plan includes what it sells; settings switch off only', () => {
    const on = readSettings({ features: { advancedAnalytics: true }, security: { enforceSSO: true } });
    const off = readSettings({});
    const free = { plan: 'FREE' as const, status: 'ACTIVE' as const, addOns: [], pastDueSince: null };
    expect(unpaidSwitchOns(off, on, free)).toEqual(['features.advancedAnalytics', 'security.enforceSSO']);
    expect(unpaidSwitchOns(on, off, free)).toEqual([]);
    expect(unpaidSwitchOns(off, on, { ...free, plan: 'ENTERPRISE' })).toEqual([]);
    expect(unpaidSwitchOns(off, on, { ...free, addOns: ['sso'] })).toEqual(['features.advancedAnalytics']);
    expect(withinEntitlements(on, { ...free, plan: 'ENTERPRISE', status: 'CANCELED' }).switchedOff).toEqual(['features.advancedAnalytics', 'security.enforceSSO']);
  });
});
