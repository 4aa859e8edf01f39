import { createDatabase } from '../src/db/client';
import { createTokenVerifier, signToken } from '../src/auth/tokens';
import { createGateway } from '../src/yoga';
import { TEST_SECRET, testUrls } from './helpers/harness';

it('GET /healthz answers while the process is up, GET /readyz while the database answers', async () => {
  const db = createDatabase({ url: testUrls().runtimeUrl, max: 1 });
  const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false });
  expect((await gateway.fetch('http://tenantgate.test/healthz')).status).toBe(200);
  expect((await gateway.fetch('http://tenantgate.test/readyz')).status).toBe(200);
  await db.close();
  expect((await gateway.fetch('http://tenantgate.test/healthz')).status).toBe(200);
  expect((await gateway.fetch('http://tenantgate.test/readyz')).status).toBe(503);
});

it('masks unexpected errors: no stack trace, no SQL', async () => {
  const db = createDatabase({ url: testUrls().runtimeUrl, max: 1 });
  const gateway = createGateway({ db, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), logging: false });
  await db.close();
  // The membership check fails on a closed pool: an unexpected error.
  const token = await signToken({ secret: TEST_SECRET, userId: '00000000-0000-4000-8000-000000000001', organizationId: '00000000-0000-4000-8000-000000000002' });
  const response = await gateway.fetch('http://tenantgate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { role } }' }),
  });
  const body = await response.json();
  expect(body.errors).toEqual([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
  expect(response.status).toBe(500);
  expect(JSON.stringify(body)).not.toMatch(/stack|SELECT|pool/i);
});
