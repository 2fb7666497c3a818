// The web console in Debian's Chromium, against `baton up` running the example shop on real
// processes: live overview, self-healing seen without a reload, a rollback from the
// Revisions page that `baton history` then shows, the map by keyboard, traces of real
// checkouts (search, call tree, waterfall), traffic and drift on the map, RED charts on the
// service page, every page at 1280 and 390 px in both themes (screenshots under
// test-results/dashboard/), and the token login.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parse } from 'yaml';
import { bucket } from '../src/domain/config/gray.ts';
import { authedFetch } from './support/api-token.ts';
import { REPO, runCli, tempDir } from './support/baton-process.ts';
import { DIST_WEB, ensureWebBuilt, startUp, type UpProcess } from './support/baton-up.ts';

const SHOP = join(REPO, 'examples/shop/baton.yaml');
const SHOTS = join(REPO, 'test-results/dashboard');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;
const THEMES = ['light', 'dark'] as const;
/** Generous: the machine runs other tests and a shop of eight processes meanwhile. */
const WAIT = { timeout: 30_000 };

const services = Object.keys((parse(await readFile(SHOP, 'utf8')) as { services: object }).services).sort();

// The page's globals, as far as the functions run inside it use them: this project's
// tsconfig has no DOM library (module-scoped declarations, erased when run).
interface PageElement {
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  documentElement: { scrollWidth: number };
};
declare const window: {
  innerWidth: number;
  loadedOnce?: string;
  getComputedStyle(e: PageElement): { strokeDasharray: string };
};
declare const sessionStorage: {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
};

interface InstanceJson {
  id: string;
  pid: number;
  phase: string;
}

/** The admin token of the shop this file started: the console and the API calls here use it. */
let apiToken: string | undefined;

async function getJson<T>(url: string, token = apiToken): Promise<T> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.ok(response.ok, `${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Checkouts straight to the web service's instances (the gateway is not needed for traces). */
async function sendCheckouts(url: string, count: number): Promise<void> {
  const { endpoints } = await getJson<{ endpoints: { address: string; port: number }[] }>(
    `${url}/v1/discovery/web`,
  );
  assert.ok(endpoints.length > 0, 'web has endpoints');
  for (let i = 0; i < count; i++) {
    const { address, port } = endpoints[i % endpoints.length]!;
    const response = await fetch(`http://${address}:${port}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
    });
    assert.equal(response.status, 201, await response.text());
  }
}

async function sendCatalogRequest(url: string): Promise<void> {
  const { endpoints } = await getJson<{ endpoints: { address: string; port: number }[] }>(
    `${url}/v1/discovery/web`,
  );
  const response = await fetch(`http://${endpoints[0]!.address}:${endpoints[0]!.port}/api/catalog`);
  assert.equal(response.status, 200);
}

/**
 * A trace no service of the shop makes, sent as OTLP/JSON: ledger calls payments (which its
 * dependsOn does not declare: drift, and with payments → ledger a cycle), and payments
 * fails with a 500.
 */
async function sendUndeclaredCall(url: string): Promise<string> {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const traceId = hex(16);
  const [root, client, server] = [hex(8), hex(8), hex(8)];
  const now = Date.now();
  const ns = (offsetMs: number) => String(BigInt(now + offsetMs) * 1_000_000n);
  const attrs = (values: Record<string, string | number>) =>
    Object.entries(values).map(([key, v]) => ({
      key,
      value: typeof v === 'number' ? { intValue: v } : { stringValue: v },
    }));
  const resource = (service: string) => ({
    attributes: attrs({ 'service.name': service, 'service.instance.id': `${service}-e2e` }),
  });
  const span = (
    spanId: string,
    parentSpanId: string | undefined,
    name: string,
    kind: number,
    from: number,
    to: number,
    a: Record<string, string | number>,
  ) => ({
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind,
    startTimeUnixNano: ns(from),
    endTimeUnixNano: ns(to),
    attributes: attrs(a),
    status: { code: 2 },
  });
  const body = {
    resourceSpans: [
      {
        resource: resource('ledger'),
        scopeSpans: [
          {
            spans: [
              span(root, undefined, 'POST /reconcile', 2, 0, 40, {
                'http.request.method': 'POST',
                'http.route': '/reconcile',
                'http.response.status_code': 500,
              }),
              span(client, root, 'POST payments', 3, 5, 35, {
                'peer.service': 'payments',
                'http.response.status_code': 500,
              }),
            ],
          },
        ],
      },
      {
        resource: resource('payments'),
        scopeSpans: [
          {
            spans: [
              span(server, client, 'POST /refunds', 2, 8, 33, {
                'http.request.method': 'POST',
                'http.route': '/refunds',
                'http.response.status_code': 500,
              }),
            ],
          },
        ],
      },
    ],
  };
  const response = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiToken}` },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
  return traceId;
}

/** Fails the test on any script error or CSP violation the page reports. */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 404 from the gateway probe on a control plane without one is expected and handled.
    if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

describe('the web console on the example shop', () => {
  let browser: Browser;
  let shop: UpProcess;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await tempDir('dashboard');
    await mkdir(SHOTS, { recursive: true });
    [, browser, shop] = await Promise.all([
      ensureWebBuilt(),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
      // The gateway on a free port: nothing here needs 7080, which may be taken.
      startUp(SHOP, join(dir.path, 'state'), ['--log-level', 'warn', '--gateway', '127.0.0.1:0']),
    ]);
    apiToken = shop.token;
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    await dir?.remove();
  });

  const newPage = async (
    viewport: (typeof WIDTHS)[number] = WIDTHS[0],
    colorScheme: 'light' | 'dark' = 'light',
  ) => {
    const context: BrowserContext = await browser.newContext({ viewport, colorScheme });
    // Signed in as the admin, as the link `baton up` prints does.
    await context.addInitScript((token) => sessionStorage.setItem('baton.token', token), shop.token);
    const page = await context.newPage();
    return { page, errors: watchForErrors(page), close: () => context.close() };
  };

  it('lists every example service healthy on the overview', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(shop.url);
    for (const name of services) {
      const row = page.locator(`tr[data-service="${name}"][data-health="healthy"]`);
      await row.waitFor(WAIT);
      assert.match(await row.innerText(), /Healthy/);
    }
    assert.equal(await page.locator('tr[data-service]').count(), services.length);
    assert.deepEqual(errors, []);
    await close();
  });

  it('shows a killed instance leave and its replacement arrive, without a reload', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/services/orders`);
    await page.locator('tr[data-instance][data-phase="running"]').nth(1).waitFor(WAIT);
    await page.evaluate(() => Object.assign(window, { loadedOnce: 'still this page' }));

    const { instances } = await getJson<{ instances: InstanceJson[] }>(
      `${shop.url}/v1/instances?service=orders`,
    );
    const victim = instances.find((i) => i.phase === 'running')!;
    process.kill(victim.pid, 'SIGKILL');

    // Gone from the running ones (failed, or already removed)…
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-instance="${id}"]`)?.getAttribute('data-phase') !== 'running',
      victim.id,
      WAIT,
    );
    // …said so among the service's recent events…
    await page
      .locator('ol.timeline li', { hasText: victim.id })
      .filter({ hasText: 'instance.failed' })
      .waitFor(WAIT);
    // …and replaced by a new instance: two running again, none of them the victim.
    await page.waitForFunction(
      (id) => {
        const running = [...document.querySelectorAll('tr[data-instance][data-phase="running"]')];
        return running.length === 2 && running.every((row) => row.getAttribute('data-instance') !== id);
      },
      victim.id,
      WAIT,
    );
    assert.equal(await page.evaluate(() => window.loadedOnce), 'still this page');
    // The replacement carries the story of the slot it took over: how the victim ended.
    await page
      .locator('tr[data-instance][data-phase="running"] td[data-label="Last exit"]', {
        hasText: 'killed by SIGKILL',
      })
      .first()
      .waitFor(WAIT);
    assert.deepEqual(errors, []);
    await close();
  });

  it("shows a service's own recent events however many events of others came since", async () => {
    // 1,100 events of another service (traffic splits of orders, set and cleared) after ledger's last.
    for (let i = 0; i < 550; i++) {
      const set = await authedFetch(shop.token)(`${shop.url}/v1/services/orders/traffic`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ weights: { '2.1.0': 100 } }),
      });
      assert.equal(set.status, 200, await set.text());
      const cleared = await authedFetch(shop.token)(`${shop.url}/v1/services/orders/traffic`, {
        method: 'DELETE',
      });
      assert.equal(cleared.status, 204);
    }
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/services/ledger`);
    await page.locator('ol.timeline li', { hasText: 'instance.running' }).first().waitFor(WAIT);
    assert.equal(await page.getByText('None yet.').count(), 0);
    assert.deepEqual(errors, []);
    await close();
  });

  it('shows which config release each instance runs, the gray one marked, live', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/services/orders`);
    await page.locator('tr[data-instance][data-phase="running"]').nth(1).waitFor(WAIT);
    const post = async (path: string, body: unknown) => {
      const response = await authedFetch(shop.token)(`${shop.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
      return (await response.json()) as { release: { number: number } };
    };
    const stable = (await post('/v1/config/set', { changes: [{ scope: 'orders', key: 'MODE', value: 'a' }] }))
      .release.number;
    const { instances } = await getJson<{ instances: InstanceJson[] }>(
      `${shop.url}/v1/instances?service=orders`,
    );
    const ids = instances.filter((i) => i.phase === 'running').map((i) => i.id);
    // The share that takes in the instances of the lowest hash bucket only: one, not both.
    const share = Math.min(...ids.map(bucket)) + 1;
    const inGray = ids.filter((id) => bucket(id) < share);
    assert.ok(inGray.length > 0 && inGray.length < ids.length, 'one instance in the gray share');
    const gray = (
      await post('/v1/config/releases', {
        content: { services: { orders: { MODE: 'b' } } },
        gray: { share, watch: '1h' },
      })
    ).release.number;
    // Without a reload: the release's event refreshes the page.
    for (const id of ids) {
      const cell = page.locator(`tr[data-instance="${id}"] td[data-label="Config"]`);
      if (inGray.includes(id)) {
        await cell.locator(`[data-config-release="${gray}"][data-config-gray="true"]`).waitFor(WAIT);
        assert.match(await cell.innerText(), new RegExp(`#${gray}\\s+gray`));
      } else {
        await cell.locator(`[data-config-release="${stable}"]`).waitFor(WAIT);
        assert.equal((await cell.innerText()).trim(), `#${stable}`);
      }
    }
    // The registry's answer says the same.
    const listed = await getJson<{
      instances: (InstanceJson & { config?: { release: number; gray: boolean } })[];
    }>(`${shop.url}/v1/instances?service=orders`);
    for (const i of listed.instances.filter((i) => ids.includes(i.id)))
      assert.deepEqual(
        i.config,
        inGray.includes(i.id) ? { release: gray, gray: true } : { release: stable, gray: false },
      );
    // Rolled back, the mark goes: every instance is on the stable release again.
    await post('/v1/config/abort', {});
    for (const id of inGray)
      await page
        .locator(
          `tr[data-instance="${id}"] td[data-label="Config"] [data-config-release="${stable}"]:not([data-config-gray])`,
        )
        .waitFor(WAIT);
    assert.deepEqual(errors, []);
    await close();
  });

  it('scales and restarts from the service page, each after a confirmation', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/services/orders`);
    await page.locator('tr[data-instance][data-phase="running"]').nth(1).waitFor(WAIT);
    await page.getByRole('spinbutton', { name: 'Instances' }).fill('3');
    await page.getByRole('button', { name: 'Scale…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Scale to 3' }).click();
    await page.getByRole('status').filter({ hasText: 'Scaling orders to 3' }).waitFor(WAIT);
    await page.locator('tr[data-instance][data-phase="running"]').nth(2).waitFor(WAIT);

    await page.goto(`${shop.url}/services/ledger`);
    const before = page.locator('tr[data-instance][data-phase="running"]');
    await before.first().waitFor(WAIT);
    const old = await before.first().getAttribute('data-instance');
    await page.getByRole('button', { name: 'Rolling restart…' }).click();
    await dialog.getByRole('button', { name: 'Restart', exact: true }).click();
    await page.waitForFunction(
      (id) => {
        const running = [...document.querySelectorAll('tr[data-instance][data-phase="running"]')];
        return running.length === 1 && running[0]!.getAttribute('data-instance') !== id;
      },
      old,
      WAIT,
    );
    assert.deepEqual(errors, []);
    await close();
  });

  it('rolls a service back from the Revisions page, showing the plan first; `baton history` has it', async () => {
    const text = (await readFile(SHOP, 'utf8')).replace('version: 1.0.4', 'version: 1.0.5');
    assert.match(text, /version: 1\.0\.5/, 'the example still runs notifications 1.0.4');
    const applied = await authedFetch(shop.token)(`${shop.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        manifest: text,
        baseDir: join(REPO, 'examples/shop'),
        message: 'notifications 1.0.5',
      }),
    });
    assert.equal(applied.status, 201);

    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/revisions`);
    await page.locator('tr[data-revision="2"]').waitFor(WAIT);
    await page.locator('.diff-service', { hasText: 'notifications' }).waitFor(WAIT);
    await page.locator('#rollback-service').selectOption('notifications');
    await page.getByRole('button', { name: 'Plan rollback…' }).click();

    const dialog = page.getByRole('dialog');
    await dialog.getByText('requested: roll back notifications 1.0.5 → 1.0.4').waitFor(WAIT);
    await page.screenshot({ path: join(SHOTS, 'rollback-plan-1280-light.png') });
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Recorded revision 3' }).waitFor(WAIT);
    await page.locator('tr[data-revision="3"]', { hasText: 'rollback of notifications' }).waitFor(WAIT);
    assert.equal(await dialog.isVisible(), false);

    const history = await runCli(['history', '--server', shop.url, '-o', 'json'], shop.env);
    assert.equal(history.code, 0, history.stderr);
    const revisions = JSON.parse(history.stdout) as {
      number: number;
      source: { kind: string; service?: string };
    }[];
    assert.deepEqual(revisions[0]?.number, 3);
    assert.deepEqual(revisions[0]?.source.kind, 'rollback-service');
    assert.deepEqual(revisions[0]?.source.service, 'notifications');
    assert.deepEqual(errors, []);
    await close();
  });

  it('reaches the map by keyboard: focus shows the blast radius, Enter opens the service', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/map`);
    const node = page.locator('g.node[data-service="payments"]');
    await node.waitFor(WAIT);
    assert.equal(await page.locator('g.node').count(), services.length);
    assert.ok((await page.locator('.edge-critical').count()) > 0, 'critical paths are drawn');
    await node.focus();
    // payments is called by orders, which web calls: both light up, the rest dims.
    await page.locator('g.node-affected[data-service="orders"]').waitFor(WAIT);
    await page.locator('g.node-affected[data-service="web"]').waitFor(WAIT);
    assert.equal(await page.locator('g.node.dimmed[data-service="notifications"]').count(), 1);
    assert.match((await node.getAttribute('aria-label')) ?? '', /payments: critical tier, Healthy/);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${shop.url}/services/payments`, WAIT);
    await page.getByRole('heading', { level: 1, name: 'payments' }).waitFor(WAIT);
    assert.deepEqual(errors, []);
    await close();
  });

  it('lists the traces of checkouts and opens one as a call tree and a waterfall across services', async () => {
    await sendCheckouts(shop.url, 6);
    const errorTrace = await sendUndeclaredCall(shop.url);
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/traces`);
    await page.getByRole('link', { name: 'Traces', exact: true }).waitFor(WAIT);
    assert.equal(
      await page.getByRole('link', { name: 'Traces', exact: true }).getAttribute('aria-current'),
      'page',
    );
    // Search by route, from the form. Spans arrive in batches: the results follow new traces.
    await page.getByLabel('Route of the first span').fill('POST /api/checkout');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/route=POST/, WAIT);
    // A complete checkout: its summary already lists the services down to payments.
    const row = page
      .locator('tr[data-trace]', { hasText: 'POST /api/checkout' })
      .filter({ hasText: 'payments' })
      .first();
    await row.waitFor(WAIT);
    assert.equal(await page.locator('tr[data-trace]', { hasText: 'POST /reconcile' }).count(), 0);
    const traceId = (await row.getAttribute('data-trace'))!;
    await row.getByRole('link').first().click();
    await page.waitForURL(`${shop.url}/traces/${traceId}`, WAIT);

    // The call tree: spans of web, orders and what orders calls, indented under each other.
    const tree = page.locator('table.call-tree');
    for (const service of ['web', 'orders', 'inventory', 'payments'])
      await tree.locator(`tr[data-service="${service}"]`).first().waitFor(WAIT);
    const spans = await tree.locator('tr[data-span]').count();
    assert.ok(spans >= 5, `${spans} spans`);
    const header = (await tree.locator('thead th').allInnerTexts()).map((t) =>
      t.replace(/\s+/g, ' ').toLowerCase(),
    );
    assert.deepEqual(header, [
      'method',
      'start ms',
      'gap ms',
      'exec ms',
      'self ms',
      'service',
      'instance',
      'error',
    ]);
    // …and the waterfall: one bar per span, for the eye only (the table is the accessible version).
    const waterfall = page.locator('.waterfall');
    assert.equal(await waterfall.getAttribute('aria-hidden'), 'true');
    assert.equal(await waterfall.locator('.wf-bar').count(), spans);
    const firstBar = (await waterfall.locator('.wf-bar').first().getAttribute('style')) ?? '';
    assert.match(firstBar, /left: 0%/);

    // Folding a subtree by keyboard hides its rows in both views.
    // The outermost: web's own client span (the data plane's hop and orders' server span are under it).
    const toggle = tree.getByRole('button', { name: /^Hide the \d+ spans? under POST \/orders$/ }).first();
    const hidden = Number(/the (\d+) span/.exec((await toggle.getAttribute('aria-label'))!)![1]);
    await toggle.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('table.call-tree tr[data-span]')].length === n,
      spans - hidden,
      WAIT,
    );
    assert.equal(await waterfall.locator('.wf-bar').count(), spans - hidden);
    await tree.getByRole('button', { name: /^Show the \d+ spans? under POST \/orders$/ }).press('Enter');
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('table.call-tree tr[data-span]')].length === n,
      spans,
      WAIT,
    );
    // A span's details: its attributes.
    await tree.getByRole('button', { name: 'POST /orders', exact: true }).first().click();
    await page.locator('.span-details', { hasText: 'http.route' }).waitFor(WAIT);

    // Only failed traces: the synthetic one, its failed spans marked in both views.
    await page.goto(`${shop.url}/traces?status=error&range=15m`);
    const failed = page.locator(`tr[data-trace="${errorTrace}"]`);
    await failed.waitFor(WAIT);
    assert.match(await failed.innerText(), /ledger[\s\S]*POST \/reconcile[\s\S]*3 errors/);
    assert.equal(await page.locator('tr[data-trace][data-error="false"]').count(), 0);
    await failed.getByRole('link').first().click();
    await page.locator('table.call-tree tr.row-error').nth(2).waitFor(WAIT);
    assert.equal(await page.locator('.waterfall .wf-row.wf-error').count(), 3);
    assert.deepEqual(errors, []);
    await close();
  });

  it('draws traffic on the map: figures on observed edges, drift, a cycle, live without a reload', async () => {
    await sendUndeclaredCall(shop.url);
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/map`);
    await page.evaluate(() => Object.assign(window, { loadedOnce: 'still this page' }));
    // Declared and observed: the traffic figures (the checkouts of the test before).
    await page.locator('g.edge.edge-seen[data-edge="web->orders"] text', { hasText: /rps/ }).waitFor(WAIT);
    assert.match(
      (await page.locator('g.edge[data-edge="web->orders"] tspan').allTextContents()).join('\n'),
      /\^2\.0\.0\s+[\d.]+ rps · [\d.]+% err\s+p99 [\d.]+ ms/,
    );
    // Observed, undeclared: drift, dotted and labelled.
    const drift = page.locator('g.edge.edge-drift.edge-undeclared[data-edge="ledger->payments"]');
    await drift.waitFor(WAIT);
    assert.match((await drift.locator('text').textContent()) ?? '', /undeclared/);
    const dashes = await drift
      .locator('path')
      .evaluate((path) => window.getComputedStyle(path).strokeDasharray);
    assert.notEqual(dashes, 'none');
    await page.locator('li[data-drift="undeclared"][data-edge="ledger->payments"]').waitFor(WAIT);
    // The cycle it closes with payments → ledger, in a banner.
    await page
      .locator('.cycle-banner', { hasText: /(ledger → payments → ledger|payments → ledger → payments)/ })
      .waitFor(WAIT);
    // Declared, never called yet (only the catalog calls inventory from web): faded, said so.
    const silent = page.locator('g.edge.edge-unobserved[data-edge="web->inventory"]');
    await silent.waitFor(WAIT);
    assert.match((await silent.locator('text').textContent()) ?? '', /never observed/);
    // Once the catalog is read, the map says so within its refresh, without a reload.
    await sendCatalogRequest(shop.url);
    await page.locator('g.edge.edge-seen[data-edge="web->inventory"] text', { hasText: /rps/ }).waitFor(WAIT);
    assert.equal(await page.locator('g.edge-unobserved[data-edge="web->inventory"]').count(), 0);
    assert.equal(await page.evaluate(() => window.loadedOnce), 'still this page');
    assert.deepEqual(errors, []);
    await close();
  });

  it('charts the RED figures of a service, per route too, with the figures in words', async () => {
    await sendCheckouts(shop.url, 3);
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/services/orders`);
    const charts = page.locator('figure.red-chart');
    await charts.nth(2).waitFor(WAIT);
    assert.deepEqual(await charts.locator('.red-chart-title').allInnerTexts(), [
      'Requests per second',
      'Error rate',
      'Latency p50 / p99',
    ]);
    const route = page.locator('tr[data-route="POST /orders"]');
    await route.waitFor(WAIT);
    // Spans arrive in each service's own batches and the panel reads again every 10 s: the
    // row may first show part of the checkouts, so wait for all of them.
    await page.waitForFunction(
      () =>
        Number(document.querySelector('tr[data-route="POST /orders"]')?.getAttribute('data-requests')) >= 9,
      undefined,
      WAIT,
    );
    assert.ok(Number(await route.getAttribute('data-requests')) >= 9, 'every checkout reached orders');
    // The rate line has points once a 10-second slot with the checkouts is complete (the
    // panel reads again every 10 s).
    await page.waitForFunction(
      () => {
        const paths = [...document.querySelectorAll('figure.red-chart:first-child .line-rate path')];
        return paths.some((p) => (p.getAttribute('d') ?? '') !== '');
      },
      null,
      { timeout: 60_000 },
    );
    const summary = await charts.first().locator('.red-summary').innerText();
    assert.match(summary, /15-minute average [\d.]+\/s over \d+ requests/);
    const described = await charts.first().getAttribute('aria-describedby');
    assert.equal(await page.locator(`[id="${described}"]`).innerText(), summary);
    assert.deepEqual(errors, []);
    await close();
  });

  it('says so where telemetry is off: the declared map, no charts, no traces', async () => {
    const { page, errors, close } = await newPage();
    // A control plane without telemetry answers 404 on its routes, as this one did before them.
    await page.route(/\/v1\/(map|metrics\/red|traces)(\?|$)/, (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/problem+json',
        body: JSON.stringify({ status: 404, code: 'not-found', title: 'Not found', detail: 'no route' }),
      }),
    );
    await page.goto(`${shop.url}/map`);
    await page.getByText('Telemetry is not available: the map shows what is declared.').waitFor(WAIT);
    await page.locator('g.edge[data-edge="web->orders"]').waitFor(WAIT);
    assert.equal(await page.locator('g.edge-seen, g.edge-unobserved, .cycle-banner').count(), 0);
    await page.goto(`${shop.url}/services/orders`);
    await page.getByText('Telemetry is not available on this control plane.').waitFor(WAIT);
    assert.equal(await page.locator('figure.red-chart').count(), 0);
    await page.goto(`${shop.url}/traces`);
    await page.getByRole('alert').filter({ hasText: 'Telemetry is not available' }).waitFor(WAIT);
    assert.deepEqual(errors, []);
    await close();
  });

  it('shows the gateway routes, and a clear "not available" state where the API lacks it', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${shop.url}/gateway`);
    const probe = await authedFetch(shop.token)(`${shop.url}/v1/gateway/snapshot`);
    if (probe.ok) await page.getByText('/api/orders', { exact: true }).waitFor(WAIT);
    // A control plane without the gateway API answers 404, as this one did before it existed.
    await page.route('**/v1/gateway/snapshot', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/problem+json',
        body: JSON.stringify({ status: 404, code: 'not-found', title: 'Not found', detail: 'no route' }),
      }),
    );
    await page.reload();
    await page.getByRole('heading', { name: 'Gateway not available' }).waitFor(WAIT);
    assert.deepEqual(errors, []);
    await close();
  });

  it('fits every page at 1280 and 390 px, light and dark, and writes screenshots', async () => {
    const { traces } = await getJson<{ traces: { traceId: string }[] }>(
      `${shop.url}/v1/traces?route=${encodeURIComponent('POST /api/checkout')}&service=payments&limit=1`,
    );
    assert.ok(traces[0], 'a checkout trace to show');
    const pages: readonly { name: string; path: string; ready: string | string[] }[] = [
      { name: 'overview', path: '/', ready: 'tr[data-service]' },
      { name: 'map', path: '/map?focus=payments', ready: 'g.node-affected' },
      { name: 'map-traffic', path: '/map', ready: 'g.edge-seen' },
      { name: 'service', path: '/services/orders', ready: ['.log-line', 'tr[data-route]'] },
      { name: 'traces', path: '/traces', ready: 'tr[data-trace]' },
      { name: 'trace', path: `/traces/${traces[0].traceId}`, ready: '.wf-bar' },
      { name: 'revisions', path: '/revisions?from=1&to=2', ready: '.diff-service' },
      { name: 'events', path: '/events', ready: 'tr[data-seq]' },
      { name: 'gateway', path: '/gateway', ready: 'main h2' },
    ];
    for (const viewport of WIDTHS) {
      const { page, errors, close } = await newPage(viewport);
      for (const p of pages) {
        await page.goto(shop.url + p.path);
        for (const ready of [p.ready].flat()) await page.locator(ready).first().waitFor(WAIT);
        for (const theme of THEMES) {
          await page.emulateMedia({ colorScheme: theme });
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          assert.ok(overflow <= 0, `${p.name} at ${viewport.width} px scrolls sideways by ${overflow} px`);
          await page.screenshot({
            path: join(SHOTS, `${p.name}-${viewport.width}-${theme}.png`),
            fullPage: true,
          });
        }
        await page.emulateMedia({ colorScheme: 'light' });
      }
      assert.deepEqual(errors, [], `at ${viewport.width} px`);
      await close();
    }
  });

  it('measures the bundle and the first load (written to test-results/dashboard/metrics.json)', async (t) => {
    const assets = join(DIST_WEB, 'assets');
    const files = await readdir(assets);
    // What the first load fetches: index.html's script and stylesheet (ELK loads with the map only).
    const index = await readFile(join(DIST_WEB, 'index.html'), 'utf8');
    const initial = files.filter((f) => index.includes(`/assets/${f}`));
    const size = async (names: string[]) => {
      let raw = 0;
      let gzip = 0;
      for (const name of names) {
        const body = await readFile(join(assets, name));
        raw += body.length;
        gzip += gzipSync(body).length;
      }
      return { raw, gzip };
    };
    const lazy = files.filter((f) => !initial.includes(f));
    const loads: number[] = [];
    const { page, close } = await newPage();
    // Every run a first visit: nothing cached (HTTP cache, and V8's code cache with it).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    for (let run = 0; run < 5; run++) {
      await page.goto(shop.url);
      await page.waitForFunction(
        () => performance.getEntriesByName('baton:overview-ready').length > 0,
        null,
        WAIT,
      );
      loads.push(
        await page.evaluate(() => performance.getEntriesByName('baton:overview-ready')[0]!.startTime),
      );
    }
    await close();
    loads.sort((a, b) => a - b);
    const metrics = {
      initial: { files: initial, ...(await size(initial)) },
      lazy: { files: lazy, ...(await size(lazy)) },
      firstLoadMs: { runs: loads.map(Math.round), median: Math.round(loads[2]!) },
    };
    await writeFile(join(SHOTS, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    t.diagnostic(`initial JS+CSS ${metrics.initial.raw} B raw, ${metrics.initial.gzip} B gzip`);
    t.diagnostic(
      `first load to overview with data: median ${metrics.firstLoadMs.median} ms of ${loads.length}`,
    );
    assert.ok(initial.some((f) => f.endsWith('.js')) && initial.some((f) => f.endsWith('.css')));
    assert.ok(!initial.some((f) => f.includes('elk')), 'the layout engine is not part of the first load');
    assert.ok(!initial.some((f) => f.includes('trace')), 'nor are the trace pages');
    assert.ok((await stat(join(SHOTS, 'metrics.json'))).size > 0);
  });
});

describe('the web console with a token required', () => {
  let browser: Browser;
  let server: UpProcess;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await tempDir('dashboard-token');
    [, browser, server] = await Promise.all([
      ensureWebBuilt(),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
      // No process needs to run for this: the simulated runtime keeps it light.
      startUp(SHOP, join(dir.path, 'state'), ['--runtime', 'simulated', '--log-level', 'warn']),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await dir?.remove();
  });

  it('asks for the token, refuses a wrong one, and works with the right one', async () => {
    const token = (await readFile(join(dir.path, 'state/token'), 'utf8')).trim();
    const context = await browser.newContext({ viewport: WIDTHS[0] });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));

    await page.goto(server.url);
    const field = page.getByLabel('API token');
    await field.waitFor(WAIT);
    for (const viewport of WIDTHS) {
      for (const theme of THEMES) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: theme });
        await page.screenshot({ path: join(SHOTS, `login-${viewport.width}-${theme}.png`), fullPage: true });
      }
    }
    await page.setViewportSize(WIDTHS[0]);

    await field.fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'did not accept' }).waitFor(WAIT);

    await field.fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-service]').nth(5).waitFor(WAIT);
    await page.getByText('Live', { exact: false }).first().waitFor(WAIT);

    assert.ok(!page.url().includes(token), 'the token is not in the address');
    assert.ok(!requests.some((u) => u.includes(token)), 'nor in any request URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('baton.token')), token);
    // A reload keeps the session (same tab), so the console opens without asking again.
    await page.reload();
    await page.locator('tr[data-service]').first().waitFor(WAIT);
    assert.equal(await page.getByLabel('API token').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('signs in from the link `baton up` prints, and wipes the token from the address', async () => {
    const link = /Dashboard: (\S+#token=\S+)/.exec(server.output())?.[1];
    assert.ok(link, 'baton up printed a signed-in link');
    const context = await browser.newContext({ viewport: WIDTHS[0] });
    const page = await context.newPage();
    await page.goto(link);
    await page.locator('tr[data-service]').first().waitFor(WAIT);
    assert.ok(!page.url().includes('token'), `the address is clean: ${page.url()}`);
    await page.locator('.whoami', { hasText: 'admin' }).waitFor(WAIT);
    await context.close();
  });

  it('shows a viewer who it is, hides what it may not do, and lists the audit trail', async () => {
    const created = await runCli(['tokens', 'create', 'vera', '--role', 'viewer'], server.env);
    assert.equal(created.code, 0, created.stderr);
    const viewer = created.stdout.trim();
    const refused = await runCli(['scale', 'orders', '3'], { ...server.env, BATON_TOKEN: viewer });
    assert.equal(refused.code, 1);

    const context = await browser.newContext({ viewport: WIDTHS[0] });
    await context.addInitScript((token) => sessionStorage.setItem('baton.token', token), viewer);
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}/services/orders`);
    await page.locator('.whoami', { hasText: 'vera' }).waitFor(WAIT);
    assert.match(await page.locator('.whoami').innerText(), /vera\s*·\s*viewer/);
    await page.getByRole('heading', { name: 'Instances' }).waitFor(WAIT);
    assert.equal(
      await page.getByRole('heading', { name: 'Actions' }).count(),
      0,
      'no scale or restart for a viewer',
    );
    await page.goto(`${server.url}/revisions`);
    await page.locator('tr[data-revision], table tbody tr').first().waitFor(WAIT);
    assert.equal(
      await page.getByRole('button', { name: /Roll back/ }).count(),
      0,
      'no rollback for a viewer',
    );

    await page.getByRole('link', { name: 'Audit' }).click();
    const row = page.locator('tr', { hasText: 'scale' }).filter({ hasText: 'vera' });
    await row.waitFor(WAIT);
    assert.match(await row.innerText(), /403/);
    await page.screenshot({ path: join(SHOTS, 'audit-1280-light.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
