import { encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { createTenantClient } from '../src/db/tenant';
import { graphql } from './gql';
import { errorCodes, type Harness, type TestOrganization } from './helpers/harness';
import { twoOrganizations } from './helpers/two-organizations';

/** The organization as a first-class object: its fields, settings and who may change them. */

const OrganizationQuery = graphql(`
  query OrganizationDetails {
    organization {
      id slug name createdAt updatedAt
      domains { domain verified verifiedAt }
      subscription { plan status seats addOns paidThrough }
      settings {
        branding { logo primaryColor customDomain }
        security { enforceSSO sessionTimeout allowedIPs }
        features { advancedAnalytics apiAccess customIntegrations webhooks }
        integrations {
          slack { webhookUrl { isSet masked } channel enabled }
          datadog { apiKey { isSet masked } enabled }
        }
      }
    }
  }
`);

const UpdateOrganization = graphql(`
  mutation UpdateOrganization($input: UpdateOrganizationInput!) {
    updateOrganization(input: $input) {
      organization {
        name
        settings {
          branding { logo primaryColor customDomain }
          security { enforceSSO sessionTimeout allowedIPs }
          features { advancedAnalytics apiAccess customIntegrations webhooks }
          integrations { slack { webhookUrl { isSet masked } channel enabled } datadog { apiKey { isSet masked } enabled } }
        }
      }
    }
  }
`);

const AnalyticsQuery = graphql(`
  query Analytics {
    analytics { projectsByStatus { status count } membersByRole { role count } departments }
  }
`);

let h: Harness;
let acme: TestOrganization;
let globex: TestOrganization;

twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));

describe('organization', () => {
  it('shows the active organization with its domains, subscription and default settings', async () => {
    await h.system.prisma.organizationDomain.create({ data: { organizationId: acme.id, domain: `${acme.slug}.example`, verified: true, verifiedAt: new Date('2026-01-01T00:00:00Z') } });
    await h.system.prisma.organizationDomain.create({ data: { organizationId: globex.id, domain: `${globex.slug}.example` } });
    const response = await h.execute(OrganizationQuery, { token: acme.member.token });
    expect(response.errors).toBeUndefined();
    expect(response.data?.organization).toMatchObject({
      id: encodeGlobalID('Organization', acme.id),
      slug: acme.slug,
      name: 'Acme',
      domains: [{ domain: `${acme.slug}.example`, verified: true, verifiedAt: '2026-01-01T00:00:00.000Z' }],
      subscription: { plan: 'FREE', status: 'ACTIVE', seats: 5, addOns: [], paidThrough: null },
      settings: {
        branding: { logo: null, primaryColor: null, customDomain: null },
        security: { enforceSSO: false, sessionTimeout: null, allowedIPs: [] },
        features: { advancedAnalytics: false, apiAccess: true, customIntegrations: false, webhooks: false },
        integrations: { slack: { webhookUrl: { isSet: false, masked: null }, channel: null, enabled: false }, datadog: { apiKey: { isSet: false, masked: null }, enabled: false } },
      },
    });
    const other = await h.execute(OrganizationQuery, { token: globex.member.token });
    expect(other.data?.organization.domains).toEqual([{ domain: `${globex.slug}.example`, verified: false, verifiedAt: null }]);
  });
});

describe('updateOrganization', () => {
  beforeEach(async () => {
    // advancedAnalytics is sold as an add-on (src/billing/entitlements.ts; test/entitlements.test.ts without it).
    await h.system.prisma.subscription.update({ where: { organizationId: acme.id }, data: { addOns: ['advanced-analytics'] } });
  });
  it('deep-merges a partial settings patch: what is left out keeps its value', async () => {
    const first = await h.execute(UpdateOrganization, {
      token: acme.admin.token,
      variables: { input: { name: 'Acme Corp', settings: { branding: { logo: 'https://cdn.acme.example/logo.png', primaryColor: '#FF6B35' }, features: { advancedAnalytics: true } } } },
    });
    expect(first.errors).toBeUndefined();
    // A custom domain must be under a verified domain of the organization (test/domains.test.ts).
    await h.system.prisma.organizationDomain.create({ data: { organizationId: acme.id, domain: `${acme.slug}.example`, verified: true, verifiedMethod: 'DNS' } });
    const second = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: { input: { settings: { branding: { customDomain: `App.${acme.slug}.Example` }, security: { sessionTimeout: 3600 } } } },
    });
    expect(second.data?.updateOrganization.organization).toMatchObject({
      name: 'Acme Corp',
      settings: {
        branding: { logo: 'https://cdn.acme.example/logo.png', primaryColor: '#FF6B35', customDomain: `app.${acme.slug}.example` },
        security: { enforceSSO: false, sessionTimeout: 3600, allowedIPs: [] },
        features: { advancedAnalytics: true, apiAccess: true, customIntegrations: false, webhooks: false },
      },
    });
    // The other organization is untouched.
    const other = await h.execute(OrganizationQuery, { token: globex.owner.token });
    expect(other.data?.organization.settings.branding.logo).toBeNull();
    expect(other.data?.organization.name).toBe('Globex');
  });

  it('resets a field to its default with null', async () => {
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { branding: { primaryColor: '#000000' }, features: { apiAccess: false } } } } });
    const reset = await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { branding: { primaryColor: null }, features: { apiAccess: null } } } } });
    expect(reset.data?.updateOrganization.organization.settings.branding.primaryColor).toBeNull();
    expect(reset.data?.updateOrganization.organization.settings.features.apiAccess).toBe(true);
  });

  it('validates field by field and names the path of each bad field, writing nothing', async () => {
    const response = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: {
        input: {
          name: 'Renamed',
          settings: {
            branding: { logo: 'not a url', primaryColor: 'orange', customDomain: 'not a domain' },
            security: { sessionTimeout: 10, allowedIPs: ['203.0.113.0/24', '10.0.0.0/33', 'nonsense'] },
            integrations: { slack: { webhookUrl: 'javascript:alert(1)', channel: 'general' } },
          },
        },
      },
    });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.status).toBe(400);
    const fields = (response.errors?.[0].extensions?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual([
      'input.settings.branding.customDomain',
      'input.settings.branding.logo',
      'input.settings.branding.primaryColor',
      'input.settings.integrations.slack.channel',
      'input.settings.integrations.slack.webhookUrl',
      'input.settings.security.allowedIPs.1',
      'input.settings.security.allowedIPs.2',
      'input.settings.security.sessionTimeout',
    ]);
    const stored = await h.system.prisma.organization.findUniqueOrThrow({ where: { id: acme.id } });
    expect(stored.name).toBe('Acme');
    expect(stored.settings).toEqual({});
  });

  it.each([
    [300, true],
    [2_592_000, true],
    [299, false],
    [2_592_001, false],
  ])('sessionTimeout %d accepted: %s', async (seconds, ok) => {
    const response = await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { security: { sessionTimeout: seconds } } } } });
    expect(errorCodes(response)).toEqual(ok ? [] : ['BAD_USER_INPUT']);
  });

  it('accepts IPv4 and IPv6 CIDRs', async () => {
    const response = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: { input: { settings: { security: { allowedIPs: ['127.0.0.0/8', '2001:db8::/32', '203.0.113.7'] } } } },
      remoteAddress: '127.0.0.1',
    });
    expect(response.data?.updateOrganization.organization.settings.security.allowedIPs).toEqual(['127.0.0.0/8', '2001:db8::/32', '203.0.113.7']);
  });

  it('refuses an allowedIPs list that would lock the caller out', async () => {
    const response = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: { input: { settings: { security: { allowedIPs: ['203.0.113.0/24'] } } } },
      remoteAddress: '198.51.100.9',
    });
    expect(response.errors?.[0].extensions?.fields).toEqual([
      { field: 'input.settings.security.allowedIPs', message: 'must include your own address (198.51.100.9)' },
    ]);
  });

  it('rejects unknown keys, naming them', async () => {
    const response = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: { input: { settings: { branding: { favicon: 'https://x.example/f.ico' } } } as never },
    });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toMatch(/"input\.settings\.branding".*Field "favicon" is not defined by type "BrandingSettingsInput"/);
  });

  it('is for owners and admins only: a member gets FORBIDDEN and nothing changes', async () => {
    const response = await h.execute(UpdateOrganization, { token: acme.member.token, variables: { input: { name: 'Hijacked' } } });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.errors?.[0].message).toBe('Requires the role OWNER or ADMIN');
    expect((await h.system.prisma.organization.findUniqueOrThrow({ where: { id: acme.id } })).name).toBe('Acme');
  });

  it('is visible to the next request: settings are cached per request only', async () => {
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { features: { advancedAnalytics: true } } } } });
    expect(errorCodes(await h.execute(AnalyticsQuery, { token: acme.member.token }))).toEqual([]);
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { features: { advancedAnalytics: false } } } } });
    expect(errorCodes(await h.execute(AnalyticsQuery, { token: acme.member.token }))).toEqual(['FORBIDDEN']);
  });
});

describe('secrets', () => {
  const apiKey = 'dd_api_key_0123456789abcxyz';
  const webhookUrl = 'https://hooks.slack.com/services/T000/B000/secretpart789';

  it('are write-only: reads return a masked value and isSet', async () => {
    const response = await h.execute(UpdateOrganization, {
      token: acme.owner.token,
      variables: { input: { settings: { integrations: { datadog: { apiKey, enabled: true }, slack: { webhookUrl, channel: '#engineering', enabled: true } } } } },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.updateOrganization.organization.settings.integrations).toEqual({
      datadog: { apiKey: { isSet: true, masked: 'dd_****_xyz' }, enabled: true },
      slack: { webhookUrl: { isSet: true, masked: 'https://hooks.slack.com/****789' }, channel: '#engineering', enabled: true },
    });
    expect(JSON.stringify(response)).not.toContain('0123456789');
    // Stored, for the platform's own integrations (admin role).
    const stored = await h.system.prisma.organizationSecret.findMany({ where: { organizationId: acme.id }, orderBy: { name: 'asc' } });
    expect(stored.map((s) => s.value)).toEqual([apiKey, webhookUrl]);
    // Never in the settings document.
    expect(JSON.stringify((await h.system.prisma.organization.findUniqueOrThrow({ where: { id: acme.id } })).settings)).not.toContain('secretpart');
  });

  it('cannot be read back even with raw SQL through the runtime role (column privilege)', async () => {
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey } } } } } });
    const tenant = createTenantClient(h.db.prisma, { organizationId: acme.id, userId: acme.owner.id, role: 'OWNER' });
    await expect(tenant.$queryRaw`SELECT value FROM organization_secrets`).rejects.toThrow(/permission denied/);
    await expect(tenant.$queryRaw`SELECT name, masked FROM organization_secrets`).resolves.toEqual([{ name: 'integrations.datadog.apiKey', masked: 'dd_****_xyz' }]);
  });

  it('are replaced by a new value and deleted with null', async () => {
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey } } } } } });
    const replaced = await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey: 'dd_api_key_new_value_999' } } } } } });
    expect(replaced.data?.updateOrganization.organization.settings.integrations.datadog.apiKey).toEqual({ isSet: true, masked: 'dd_****_999' });
    const deleted = await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey: null } } } } } });
    expect(deleted.data?.updateOrganization.organization.settings.integrations.datadog.apiKey).toEqual({ isSet: false, masked: null });
  });

  it('are never logged, not even when the request fails', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => jest.spyOn(console, level));
    const stdout = jest.spyOn(process.stdout, 'write');
    const stderr = jest.spyOn(process.stderr, 'write');
    try {
      await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey } } } } } });
      await h.execute(UpdateOrganization, { token: acme.member.token, variables: { input: { settings: { integrations: { datadog: { apiKey } } } } } });
      await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey: `${apiKey}\u0000` } } } } } });
      const written = [...spies, stdout, stderr].flatMap((spy) => spy.mock.calls.map((call) => call.map(String).join(' '))).join('\n');
      expect(written).not.toContain('0123456789');
    } finally {
      for (const spy of [...spies, stdout, stderr]) spy.mockRestore();
    }
  });

  it('of one organization are invisible to another', async () => {
    await h.execute(UpdateOrganization, { token: acme.owner.token, variables: { input: { settings: { integrations: { datadog: { apiKey } } } } } });
    const other = await h.execute(OrganizationQuery, { token: globex.owner.token });
    expect(other.data?.organization.settings.integrations.datadog.apiKey).toEqual({ isSet: false, masked: null });
    const tenant = createTenantClient(h.db.prisma, { organizationId: globex.id, userId: globex.owner.id });
    await expect(tenant.$queryRaw`SELECT name FROM organization_secrets`).resolves.toEqual([]);
  });
});

describe('analytics (behind the advancedAnalytics feature)', () => {
  it('is FORBIDDEN, naming the feature, for an organization without it', async () => {
    const response = await h.execute(AnalyticsQuery, { token: acme.owner.token });
    expect(response.errors).toEqual([
      expect.objectContaining({ message: 'This organization does not have the advancedAnalytics feature', extensions: { code: 'FORBIDDEN', feature: 'advancedAnalytics' } }),
    ]);
  });

  it('counts the organization\'s own data once the feature is on', async () => {
    await h.system.prisma.organization.update({ where: { id: acme.id }, data: { settings: { features: { advancedAnalytics: true } } } });
    await h.system.prisma.project.createMany({
      data: [
        { organizationId: acme.id, ownerId: acme.owner.id, name: 'a', status: 'ACTIVE' },
        { organizationId: acme.id, ownerId: acme.owner.id, name: 'b', status: 'ACTIVE' },
        { organizationId: globex.id, ownerId: globex.owner.id, name: 'c', status: 'ARCHIVED' },
      ],
    });
    const response = await h.execute(AnalyticsQuery, { token: acme.member.token });
    expect(response.data?.analytics).toEqual({
      projectsByStatus: [{ status: 'ACTIVE', count: 2 }],
      membersByRole: [{ role: 'OWNER', count: 1 }, { role: 'ADMIN', count: 1 }, { role: 'MEMBER', count: 1 }],
      departments: 0,
    });
    expect(errorCodes(await h.execute(AnalyticsQuery, { token: globex.owner.token }))).toEqual(['FORBIDDEN']);
  });
});

it('the organization row itself cannot be re-pointed by a tenant: only name and settings are writable', async () => {
  const client = new pg.Client({ connectionString: h.runtimeUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL app.current_org_id = '${acme.id}'`);
    await expect(client.query(`UPDATE organizations SET slug = 'stolen'`)).rejects.toThrow(/permission denied/);
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
});
