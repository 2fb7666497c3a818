// The shop, end to end: six real processes on real sockets, wired by BATON_ENDPOINT_*
// the way Baton's discovery would wire them.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { overrideVariable } from './lib/discovery.ts';
import { eventually } from '../../test/support/eventually.ts';

const SERVICES = ['web', 'orders', 'inventory', 'payments', 'ledger', 'notifications'] as const;
type ServiceName = (typeof SERVICES)[number];

const here = import.meta.dirname;
const manifest = parse(readFileSync(`${here}/baton.yaml`, 'utf8')) as {
  services: Record<ServiceName, { version: string }>;
};

const GOOD_CARD = '4242424242424242';
const DECLINED_CARD = '4000000000000002';
/** Baton sets BATON_VERSION; the ledger gets one that differs from baton.yaml to show it wins. */
const LEDGER_BUILD = '3.2.1-rc.1';

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every stdout line, parsed: the services log one JSON object per line. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
}

interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly requestId: string | null;
  readonly body: unknown;
}

const running = new Map<ServiceName, Running>();

/** Ports free right now: all held open together, so no two are the same. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((server) => once(server, 'listening')));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((closed) => server.close(closed))));
  return ports;
}

function start(name: ServiceName, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [`services/${name}.ts`], {
    cwd: here,
    // A clean environment: nothing from the developer's shell (BATON_SERVER…) leaks in.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => logs.push(JSON.parse(line)));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, url: `http://127.0.0.1:${env.PORT}`, logs, stderr, exited };
}

/** Polls `check` until it returns something truthy; fails with `what` at the deadline. */
function waitFor<T>(what: string, check: () => T | Promise<T>, deadlineMs = 60_000): Promise<T> {
  return eventually(async () => (await check()) || undefined, { what, timeoutMs: deadlineMs });
}

function service(name: ServiceName): Running {
  const found = running.get(name);
  assert.ok(found, `${name} is not running`);
  return found;
}

async function call(
  name: ServiceName,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${service(name).url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    requestId: response.headers.get('x-request-id'),
    body: text ? JSON.parse(text) : undefined,
  };
}

async function stockOf(sku: string): Promise<number> {
  const { body } = await call('inventory', 'GET', `/stock/${sku}`);
  return (body as { stock: number }).stock;
}

async function orderCount(): Promise<number> {
  const { body } = await call('orders', 'GET', '/orders');
  return (body as { orders: unknown[] }).orders.length;
}

async function stop(name: ServiceName): Promise<number | null> {
  const { child, exited } = service(name);
  child.kill('SIGTERM');
  return exited;
}

describe('the shop', () => {
  before(async () => {
    const free = await freePorts(SERVICES.length);
    const ports = new Map(SERVICES.map((name, i) => [name, free[i]!]));
    const endpoints = Object.fromEntries(
      [...ports].map(([name, port]) => [overrideVariable(name), `http://127.0.0.1:${port}`]),
    );
    for (const [name, port] of ports) {
      const version: Record<string, string> = name === 'ledger' ? { BATON_VERSION: LEDGER_BUILD } : {};
      running.set(name, start(name, { ...endpoints, ...version, PORT: String(port) }));
    }
    await Promise.all(
      SERVICES.map((name) =>
        waitFor(`${name} to be healthy`, async () => (await call(name, 'GET', '/healthz')).status === 200),
      ),
    );
  });

  after(() => {
    for (const { child } of running.values()) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('reports health and the version from baton.yaml, or from BATON_VERSION when set', async () => {
    for (const name of SERVICES) {
      const health = await call(name, 'GET', '/healthz');
      const version = name === 'ledger' ? LEDGER_BUILD : manifest.services[name].version;
      assert.deepEqual(health.body, { status: 'ok', service: name, version });
      assert.equal(health.type, 'application/json; charset=utf-8');
    }
  });

  it('serves the storefront page and the catalog with stock', async () => {
    const page = await fetch(`${service('web').url}/`);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await page.text(), /<h1>Shop<\/h1>/);

    const catalog = await call('web', 'GET', '/api/catalog');
    assert.equal(catalog.status, 200);
    const { products } = catalog.body as { products: { sku: string; stock: number }[] };
    assert.equal(products.find((p) => p.sku === 'tea-sencha')?.stock, await stockOf('tea-sencha'));
  });

  it('checks out end to end: order recorded, stock taken, money booked, customer notified', async () => {
    const stockBefore = await stockOf('tea-sencha');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const checkout = await call(
      'web',
      'POST',
      '/api/checkout',
      { sku: 'tea-sencha', quantity: 2, card: GOOD_CARD },
      { 'x-request-id': 'checkout-1', traceparent },
    );
    assert.equal(checkout.status, 201, JSON.stringify(checkout.body));
    assert.equal(checkout.requestId, 'checkout-1');
    const order = checkout.body as { id: string; amount: number; charge: string; status: string };
    assert.equal(order.status, 'confirmed');
    assert.equal(order.amount, 2 * 1200);

    assert.deepEqual((await call('orders', 'GET', `/orders/${order.id}`)).body, order);
    assert.deepEqual((await call('orders', 'GET', `/api/orders/${order.id}`)).body, order);
    assert.equal(await stockOf('tea-sencha'), stockBefore - 2);

    const ledger = await call('ledger', 'GET', `/entries?reference=${order.charge}`);
    const { entries, balances } = ledger.body as { entries: unknown[]; balances: Record<string, number> };
    assert.equal(entries.length, 1);
    assert.deepEqual(balances, { 'assets:card-receivables': 2400, 'income:sales': -2400 });

    await waitFor('the confirmation', () =>
      service('notifications').logs.some(
        (l) => l.message === 'notification' && String(l.text).includes(order.id),
      ),
    );
    // The request id and the trace followed the checkout through every service it touched.
    for (const name of ['web', 'orders', 'inventory', 'payments', 'ledger', 'notifications'] as const) {
      await waitFor(`${name} to log the checkout`, () =>
        service(name).logs.some((l) => l.requestId === 'checkout-1' && l.traceparent === traceparent),
      );
    }
  });

  it('answers 402 to a declined card, records no order and gives the stock back', async () => {
    const [ordersBefore, stockBefore] = [await orderCount(), await stockOf('mug-stoneware')];
    const declined = await call('web', 'POST', '/api/checkout', {
      sku: 'mug-stoneware',
      quantity: 1,
      card: DECLINED_CARD,
    });
    assert.equal(declined.status, 402);
    assert.equal(declined.type, 'application/problem+json');
    assert.equal((declined.body as { code: string }).code, 'card-declined');
    assert.equal(await orderCount(), ordersBefore);
    assert.equal(await stockOf('mug-stoneware'), stockBefore);
  });

  it('answers 409 when there is not enough stock', async () => {
    const ordersBefore = await orderCount();
    const stock = await stockOf('kettle-gooseneck');
    const refused = await call('web', 'POST', '/api/checkout', {
      sku: 'kettle-gooseneck',
      quantity: stock + 1,
      card: GOOD_CARD,
    });
    assert.equal(refused.status, 409);
    assert.equal((refused.body as { code: string }).code, 'insufficient-stock');
    assert.equal(await orderCount(), ordersBefore);
    assert.equal(await stockOf('kettle-gooseneck'), stock);
  });

  it('answers 400 problems to malformed JSON and invalid fields', async () => {
    for (const [name, path, body] of [
      ['web', '/api/checkout', '{"sku":'],
      ['web', '/api/checkout', { sku: 'tea-sencha', quantity: 0, card: GOOD_CARD }],
      ['orders', '/orders', { sku: 'tea-sencha', quantity: 1, card: 'not-a-card' }],
      ['inventory', '/reservations', { sku: 'tea-sencha', quantity: 1.5 }],
      ['payments', '/charges', { order: 'o-1', amount: -5, card: GOOD_CARD }],
      [
        'ledger',
        '/entries',
        {
          reference: 'r-1',
          postings: [
            { account: 'a', amount: 5 },
            { account: 'b', amount: -4 },
          ],
        },
      ],
      ['notifications', '/notify', { topic: 'order-confirmed' }],
    ] as const) {
      const answer = await call(name, 'POST', path, body);
      assert.equal(answer.status, 400, `${name} ${path} ${JSON.stringify(body)}`);
      assert.equal(answer.type, 'application/problem+json');
      assert.equal((answer.body as { code: string }).code, 'bad-request');
    }
    assert.equal((await call('orders', 'GET', '/orders/no-such-order')).status, 404);
    assert.equal((await call('payments', 'GET', '/charges')).status, 405);
  });

  it('still takes orders when notifications, an optional dependency, is down', async () => {
    assert.equal(await stop('notifications'), 0);
    const checkout = await call('web', 'POST', '/api/checkout', {
      sku: 'tea-sencha',
      quantity: 1,
      card: GOOD_CARD,
    });
    assert.equal(checkout.status, 201, JSON.stringify(checkout.body));
    const { id } = checkout.body as { id: string };
    await waitFor('orders to note the skipped notification', () =>
      service('orders').logs.some((l) => l.message === 'notification skipped' && l.order === id),
    );
  });

  it('finishes the request in flight when told to stop', async () => {
    const ledger = service('ledger');
    const request = httpRequest(`${ledger.url}/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', expect: '100-continue' },
    });
    const answered = once(request, 'response') as Promise<[IncomingMessage]>;
    request.flushHeaders();
    await once(request, 'continue'); // the ledger has read the headers: the request is in flight
    ledger.child.kill('SIGTERM');
    await waitFor('the ledger to start draining', () =>
      ledger.logs.some((l) => l.message === 'shutting down'),
    );
    request.end(
      JSON.stringify({
        reference: 'late',
        postings: [
          { account: 'a', amount: 1 },
          { account: 'b', amount: -1 },
        ],
      }),
    );
    const [response] = await answered;
    response.resume();
    assert.equal(response.statusCode, 201);
    assert.equal(response.headers.connection, 'close');
    assert.equal(await ledger.exited, 0);
  });

  it('stops every service gracefully on SIGTERM', async () => {
    const codes = await Promise.all(
      ['web', 'orders', 'inventory', 'payments'].map((name) => stop(name as ServiceName)),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    for (const name of SERVICES) assert.deepEqual(service(name).stderr, [], `${name} wrote to stderr`);
  });
});
