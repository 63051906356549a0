import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { gatewayMounts } from '../../src/gateway/mounts.js';
import { Tokens, type ServiceEntry } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { calls, Pricing, resetCalls, Shop } from '../unit/fixtures.js';
import { Greeter } from '../gateway/fixtures.js';
import { launchChromium, requireChromium } from './support/chromium.js';

const browser = await requireChromium();

// Longer than Playwright's own waits (below), so a failure reports what Playwright was waiting for. A 2-core
// machine running other suites can make a browser slow: these are limits, not expectations of speed.
jest.setTimeout(45_000);
const WAIT_MS = 20_000;

const SCREENSHOT = join(process.cwd(), 'test-artifacts', 'dashboard.png');

/** Registered straight into the registry: markup in a name, metadata and an endpoint name must stay text. */
const HOSTILE: ServiceEntry = {
  name: 'evil<img src=x onerror="window.__xss=1">',
  version: '<b>1</b>',
  metadata: { note: '<script>window.__xss=2</script>' },
  endpoints: [{ name: '<img src=y onerror="window.__xss=3">', request: { name: 'r', type: '<i>T</i>', values: [{ name: '<u>f</u>', type: 'string' }] }, response: null, metadata: {} }],
  nodes: [{ id: 'evil-1', address: '127.0.0.1:1', metadata: { owner: '<iframe src=javascript:alert(1)>' } }],
};
/** Two versions of a service whose request nests a class, with optional fields and an array. */
const CREATE_ITEM = {
  name: 'request',
  type: 'CreateItem',
  values: [
    { name: 'title', type: 'string' },
    { name: 'price', type: 'Money', values: [{ name: 'amount', type: 'number' }, { name: 'currency', type: 'string?' }] },
    { name: 'tags', type: 'string[]' },
    { name: 'note', type: 'string?' },
  ],
};
const catalogVersion = (version: string): ServiceEntry => ({
  name: 'catalog',
  version,
  metadata: {},
  endpoints: [{ name: 'Catalog.create', request: CREATE_ITEM, response: { name: 'response', type: 'Item', values: [{ name: 'id', type: 'string' }] }, metadata: { idempotent: 'true' } }],
  nodes: [{ id: `catalog-${version}`, address: '127.0.0.1:1', metadata: {} }],
});
const BROKER_ENTRY: ServiceEntry = { name: 'tsmicro.broker.shop.restocked', version: 'latest', metadata: {}, endpoints: [], nodes: [{ id: 'b-1', address: '127.0.0.1:1', metadata: {} }] };

/** The dashboard in headless Chromium against services on the in-memory plugins. */
browser.describe('dashboard in a browser', () => {
  const apps = new TestApps();
  const problems: string[] = [];
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let gateway: Gateway;
  let page: Page;

  const serviceLink = (name: string) => page.locator('#service-list a.service-link').filter({ has: page.locator('.service-name', { hasText: name }) });
  const endpoint = (name: string) => page.locator('details.endpoint').filter({ has: page.locator('.endpoint-name', { hasText: name }) });
  const pageText = (text: string) => page.getByText(text, { exact: true }).first();

  beforeAll(async () => {
    resetCalls();
    await apps.started({ services: [Shop, Greeter] });
    const app = await apps.started({ config: { gateway: { address: '127.0.0.1:0', accessLog: false } } });
    await app.get(Tokens.Registry).register(HOSTILE);
    await app.get(Tokens.Registry).register(BROKER_ENTRY);
    for (const version of ['1.0.0', '2.0.0']) await app.get(Tokens.Registry).register(catalogVersion(version));
    gateway = createGateway(app, gatewayMounts(app));
    await gateway.start();
    chromium = await launchChromium();
    chromium.context.setDefaultTimeout(WAIT_MS);
    page = await chromium.context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Chrome logs every 4xx a fetch gets (the 400 test below) as a console error; anything else is a problem,
    // a content-security-policy violation first of all.
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(`console: ${message.text()}`));
    await page.goto(`http://${gateway.address}/dashboard/`);
  }, 90_000);

  afterAll(async () => {
    await chromium?.close();
    await gateway?.stop();
    await apps.stopAll();
  });

  it('lists the services and says it is live, showing registered markup as text', async () => {
    await page.locator('#live-status[data-state="live"]').waitFor();
    for (const name of ['greeter', 'shop', HOSTILE.name]) await serviceLink(name).waitFor();
    expect(await page.locator('#service-list .service-name').allTextContents()).toEqual(['catalog', HOSTILE.name, 'greeter', 'shop']);
    await serviceLink(HOSTILE.name).click();
    await endpoint(HOSTILE.endpoints[0]!.name).locator('summary').click();
    for (const text of ['<b>1</b>', 'note', '<script>window.__xss=2</script>', '<iframe src=javascript:alert(1)>', '<i>T</i>', '<u>f</u>']) await pageText(text).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('#service-view img, #service-view script, #service-view iframe, #service-list img').count()).toBe(0);
  });

  it('adds a service that starts and removes it when it stops, without reloading', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const pricing = await apps.started({ services: [Pricing] });
    await serviceLink('pricing').waitFor();
    await serviceLink('pricing').click();
    await endpoint('Pricing.price').waitFor();
    await pricing.stop();
    await serviceLink('pricing').waitFor({ state: 'detached' });
    await page.getByText('pricing is not registered any more').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it('shows a service\'s versions, nodes and endpoints with their request and response', async () => {
    await serviceLink('shop').click();
    await page.locator('h2.service-title', { hasText: 'shop' }).waitFor();
    await page.locator('section.version[data-version="1.0.0"]').waitFor();
    expect(await page.locator('table.nodes tbody tr').count()).toBe(1);
    expect(await page.locator('table.nodes tbody td').first().textContent()).toMatch(/^shop-/);
    const place = endpoint('Shop.place');
    expect(await place.locator('.endpoint-signature').textContent()).toMatch(/^Order \{ item: string, quantity: number \} → /);
    await place.locator('summary').click();
    const fields = place.locator('.endpoint-descriptions section').first().locator('.value-field');
    expect(await fields.allTextContents()).toEqual(['item: string', 'quantity: number']);
    expect(await place.locator('textarea').inputValue()).toBe('{\n  "item": "",\n  "quantity": 0\n}');
  });

  it('renders nested descriptions, each version apart, and a skeleton of the required fields', async () => {
    await serviceLink('catalog').click();
    // The view is replaced once the service's details arrive: until then the previous service (shop, 1.0.0) shows.
    await page.locator('h2.service-title', { hasText: 'catalog' }).waitFor();
    await page.locator('section.version[data-version="2.0.0"]').waitFor();
    expect(await page.locator('section.version').evaluateAll((sections) => sections.map((section) => (section as unknown as { dataset: { version: string } }).dataset.version))).toEqual(['2.0.0', '1.0.0']);
    const create = page.locator('section.version[data-version="2.0.0"]').locator('details.endpoint');
    expect(await create.locator('.endpoint-signature').textContent()).toBe('CreateItem { title: string, price: Money { amount: number, currency?: string }, tags: string[], note?: string } → Item { id: string }');
    await create.locator('summary').click();
    const request = create.locator('.endpoint-descriptions section').first();
    expect(await request.locator(':scope > .value > .value-fields > .value-field > .field-name').allTextContents()).toEqual(['title', 'price', 'tags', 'note']);
    expect(await request.locator('.value-field .value-field').allTextContents()).toEqual(['amount: number', 'currency: stringoptional']);
    expect(JSON.parse(await create.locator('textarea').inputValue())).toEqual({ title: '', price: { amount: 0 }, tags: [] });
    await page.getByText('Calls go through the gateway to any node of catalog, whichever its version.').waitFor();
    await serviceLink('shop').click();
  });

  it('calls an endpoint with the JSON typed and shows the reply', async () => {
    const place = endpoint('Shop.place');
    await place.locator('textarea').fill('{ "item": "tea", "quantity": 2 }');
    await place.getByRole('button', { name: 'Call' }).click();
    const result = place.locator('.result.ok');
    await result.locator('.result-status', { hasText: '200 OK' }).waitFor();
    expect(JSON.parse((await result.locator('pre').textContent())!)).toMatchObject({ accepted: 'tea', quantity: 2 });
  });

  it('shows a 400 with each failing field and constraint', async () => {
    const place = endpoint('Shop.place');
    await place.locator('textarea').fill('{ "item": "", "quantity": 0 }');
    await place.getByRole('button', { name: 'Call' }).click();
    const result = place.locator('.result.error');
    await result.locator('.result-status', { hasText: '400 Bad Request' }).waitFor();
    expect(await result.locator('.result-detail').textContent()).toMatch(/^invalid request to shop Shop.place/);
    const rows = await result.locator('table.violations tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
    expect(rows).toEqual([
      ['item', 'isNotEmpty'],
      ['quantity', 'min'],
    ]);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('refuses to send JSON that does not parse, saying why', async () => {
    const place = endpoint('Shop.place');
    const before = calls.total;
    await place.locator('textarea').fill('{ "item": ');
    await place.locator('.json-status', { hasText: 'Not valid JSON' }).waitFor();
    await place.getByRole('button', { name: 'Call' }).click();
    await place.locator('.result.error .result-status', { hasText: 'Not sent: the request is not valid JSON' }).waitFor();
    expect(await place.locator('.result.error .result-detail').textContent()).not.toBe('');
    expect(calls.total).toBe(before);
  });

  it('keeps a request being typed, and its focus, while the service changes under it', async () => {
    const editor = endpoint('Shop.place').locator('textarea');
    await editor.fill('{ "item": "draft" }');
    await editor.focus();
    const secondNode = await apps.started({ services: [Shop] });
    await page.locator('table.nodes tbody tr').nth(1).waitFor();
    expect(await editor.inputValue()).toBe('{ "item": "draft" }');
    expect(await editor.evaluate((node) => node === node.ownerDocument.activeElement)).toBe(true);
    await secondNode.stop();
    await page.locator('table.nodes tbody tr').nth(1).waitFor({ state: 'detached' });
    expect(await editor.inputValue()).toBe('{ "item": "draft" }');
  });

  it('hid the broker\'s entries, and ran without script errors or policy violations', async () => {
    expect(await serviceLink('tsmicro.broker').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
