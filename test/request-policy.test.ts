import { requestPolicy, type PolicyInput } from '../src/auth/request-policy';

/** The organization's request policy is a pure function: no PostgreSQL here. */

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const open: PolicyInput['security'] = { enforceSSO: false, sessionTimeout: null, allowedIPs: [] };
const base: PolicyInput = { security: open, claims: { iat: NOW / 1000 - 60 }, support: false, address: '203.0.113.7', now: NOW };
const code = (input: Partial<PolicyInput>) => requestPolicy({ ...base, ...input })?.extensions.code ?? null;
const message = (input: Partial<PolicyInput>) => requestPolicy({ ...base, ...input })?.message ?? null;

it('lets a request through when nothing is configured', () => {
  expect(requestPolicy(base)).toBeNull();
});

it('expires a session older than the timeout, or one without iat', () => {
  const security = { ...open, sessionTimeout: 3600 };
  expect(code({ security, claims: { iat: NOW / 1000 - 3599 } })).toBeNull();
  expect(message({ security, claims: { iat: NOW / 1000 - 3601 } })).toBe('Session expired');
  expect(code({ security, claims: {} })).toBe('UNAUTHENTICATED');
});

it('requires sso in amr when SSO is enforced, except for a support session', () => {
  const security = { ...open, enforceSSO: true };
  expect(code({ security, claims: { ...base.claims, amr: ['pwd'] } })).toBe('UNAUTHENTICATED');
  expect(code({ security, claims: { ...base.claims, amr: ['pwd', 'sso'] } })).toBeNull();
  expect(code({ security, support: true })).toBeNull();
});

it('refuses an address outside the allow-list, and an unknown address, support sessions included', () => {
  const security = { ...open, allowedIPs: ['203.0.113.0/24', '2001:db8::/32'] };
  expect(code({ security })).toBeNull();
  expect(code({ security, address: '2001:db8::1' })).toBeNull();
  expect(message({ security, address: '198.51.100.1' })).toBe('IP address not allowed for this organization');
  expect(code({ security, address: null })).toBe('FORBIDDEN');
  expect(code({ security, address: '198.51.100.1', support: true })).toBe('FORBIDDEN');
});

it('refuses at the API-call limit with 429 and the next month as resetAt; not a support session, not unlimited', () => {
  const refused = requestPolicy({ ...base, apiCalls: { limit: 1000, used: 1000 } });
  expect(refused?.extensions).toMatchObject({
    code: 'QUOTA_EXCEEDED',
    resource: 'API_CALLS',
    limit: 1000,
    used: 1000,
    resetAt: '2027-01-01T00:00:00.000Z',
    http: { status: 429 },
  });
  expect(code({ apiCalls: { limit: 1000, used: 999 } })).toBeNull();
  expect(code({ apiCalls: { limit: 1000, used: 5000 }, support: true })).toBeNull();
  expect(code({ apiCalls: { limit: null, used: 5000 } })).toBeNull();
});

it('applies the rules in order: an expired session is reported before the IP', () => {
  const security = { enforceSSO: true, sessionTimeout: 300, allowedIPs: ['10.0.0.0/8'] };
  expect(message({ security, claims: { iat: NOW / 1000 - 301 } })).toBe('Session expired');
});
