import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createTokenVerifier } from '../src/auth/tokens';
import { generateInvoices } from '../src/billing/invoicing';
import { periodOf } from '../src/billing/period';
import { createGateway, type Gateway } from '../src/yoga';
import { startHarness, TEST_SECRET, type Harness, type TestOrganization } from './helpers/harness';

/**
 * GraphiQL and /dashboard in real Chromium (Debian's `chromium`, driven by
 * playwright-core), served by a gateway on 127.0.0.1 with every other address
 * blocked: the pages must work with no network. Screenshots go to test/artifacts/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, 'artifacts');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
const describeWithChromium = hasChromium ? describe : describe.skip;
jest.setTimeout(240_000);

describeWithChromium('in Chromium', () => {
  let harness: Harness;
  let gateway: Gateway;
  let server: Server;
  let url: string;
  let browser: Browser;
  let acme: TestOrganization;
  let globex: TestOrganization;
  const offHost: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    harness = await startHarness();
    acme = await harness.createOrganization('Acme Browser');
    globex = await harness.createOrganization('Globex Browser');
    await harness.execute('mutation { createProject(input: { name: "Rocket" }) { project { id } } }', { token: acme.owner.token });
    // Usage to chart: a few calls of acme written now, and this month's invoice.
    for (let i = 0; i < 5; i++) await harness.execute('{ viewer { role } }', { token: acme.member.token });
    await harness.usage.flush();
    await generateInvoices(harness.system, { period: periodOf(new Date()), organizationIds: [acme.id] });

    gateway = createGateway({
      db: harness.db,
      verifyToken: createTokenVerifier({ secret: TEST_SECRET }),
      logging: false,
      usage: false,
      demoSignIns: () => [{ email: 'owner@acme.test', label: 'owner of acme', authorization: `Bearer ${acme.owner.token}` }],
    });
    server = createServer(gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const { chromium } = await import('playwright-core');
    // launch() starts Chromium on a new, empty profile directory of its own (no --user-data-dir needed).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await gateway?.dispose();
    await harness?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // No network beyond 127.0.0.1: any other request is recorded and refused.
    await context.route('**/*', (route) => {
      const target = new URL(route.request().url());
      if (target.protocol === 'blob:' || target.protocol === 'data:' || target.hostname === '127.0.0.1') return route.continue();
      offHost.push(route.request().url());
      return route.abort();
    });
    // The GraphiQL page inlines its 9 MB of scripts: slow to load on a busy machine.
    context.setDefaultTimeout(90_000);
    return context.newPage();
  }

  async function responseText(page: Page): Promise<string> {
    // Monaco renders spaces as no-break spaces.
    return (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
  }

  it('GraphiQL loads with no CDN, takes the Authorization header, and runs the example query', async () => {
    const page = await newPage();
    await page.goto(`${url}/graphql`);
    await page.locator('.graphiql-execute-button').waitFor();
    expect(await page.title()).toBe('tenantgate GraphiQL');
    expect(await page.locator('#tenantgate-bar').innerText()).toContain('Authorization');
    // Monaco renders spaces as no-break spaces.
    expect(await page.locator('.graphiql-query-editor').innerText()).toMatch(/query\sExample/);

    // The Headers tab: replace its text with the owner's header, as a user pastes it.
    await page.getByText('Headers', { exact: true }).click();
    const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)');
    await headers.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${acme.owner.token}` }));
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction((slug) => document.querySelector('.graphiql-response')?.textContent?.includes(slug), acme.slug, { timeout: 90_000 });
    const text = await responseText(page);
    expect(text).toContain('"role": "OWNER"');
    expect(text).toContain('"name": "Rocket"');
    expect(text).not.toContain(globex.slug);
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql.png') });
    expect(offHost).toEqual([]);
  });

  it('the development "sign in as" link opens GraphiQL with that user\'s header', async () => {
    const page = await newPage();
    await page.goto(`${url}/graphql`);
    await Promise.all([page.waitForURL(/\/graphql\?as=owner%40acme\.test$/), page.locator('#tenantgate-bar a', { hasText: 'owner@acme.test' }).click()]);
    await page.locator('.graphiql-execute-button').waitFor();
    expect(await page.locator('.graphiql-editor-tool').innerText()).toContain('Bearer');
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction((slug) => document.querySelector('.graphiql-response')?.textContent?.includes(slug), acme.slug, { timeout: 90_000 });
    expect(await responseText(page)).toContain('"role": "OWNER"');
    expect(offHost).toEqual([]);
  });

  it('/dashboard shows an owner this month against last month, daily charts, invoices and members by role', async () => {
    const page = await newPage();
    await page.goto(`${url}/dashboard`);
    await page.fill('#token', `Bearer ${acme.owner.token}`);
    await page.click('#signin button');
    await page.locator('#status.ready').waitFor({ timeout: 90_000 });
    expect(await page.locator('#organization').innerText()).toBe(`Acme Browser (${acme.slug})`);
    const usage = await page.locator('#usage').innerText();
    expect(usage).toMatch(/API calls\s+\d+\s+0/);
    expect(await page.locator('#charts canvas').count()).toBe(3);
    expect(await page.locator('#invoices').innerText()).toMatch(/\d{4}-\d{2}\s+(OPEN|PAID)/);
    expect(await page.locator('#members').innerText()).toContain('owners: 1');
    expect(await page.locator('#members').innerText()).toContain('total: 3');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(offHost).toEqual([]);
  });

  it('/dashboard tells a MEMBER it is for owners and admins, and shows no data', async () => {
    const page = await newPage();
    await page.goto(`${url}/dashboard`);
    await page.fill('#token', globex.member.token);
    await page.click('#signin button');
    await page.locator('#status.error').waitFor({ timeout: 90_000 });
    expect(await page.locator('#status').innerText()).toContain('owners and admins');
    expect(await page.locator('#content').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-member.png') });
  });
});
