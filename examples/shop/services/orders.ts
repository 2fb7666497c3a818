// orders: turns a checkout into an order. Reserve the stock, charge the card, record the
// order, then tell the customer. Notifications are optional (baton.yaml says so): an
// order never fails because a notification could not be sent.
import { randomUUID } from 'node:crypto';
import { callJson } from '../lib/http.ts';
import type { Handler, Logger } from '../lib/service.ts';
import { badRequest, isRecord, json, problem, relay, serve } from '../lib/service.ts';

interface OrderRequest {
  readonly sku: string;
  readonly quantity: number;
  readonly card: string;
}

interface Order {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  /** In cents. */
  readonly amount: number;
  readonly charge: string;
  readonly status: 'confirmed';
  readonly createdAt: string;
}

interface Reservation {
  readonly id: string;
  readonly unitPrice: number;
}

const orders = new Map<string, Order>();

function parseOrder(body: unknown): OrderRequest | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  const { sku, quantity, card } = body;
  if (typeof sku !== 'string' || sku === '') return '`sku` must be a non-empty string';
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 100) {
    return '`quantity` must be an integer from 1 to 100';
  }
  if (typeof card !== 'string' || !/^\d{12,19}$/.test(card)) return '`card` must be 12 to 19 digits';
  return { sku, quantity, card };
}

const placeOrder: Handler = async ({ body, forward, log }) => {
  const request = parseOrder(body);
  if (typeof request === 'string') return badRequest(request);
  const id = randomUUID();
  const options = { headers: forward };

  const reserved = await callJson<Reservation>(
    'inventory',
    'POST',
    '/reservations',
    { sku: request.sku, quantity: request.quantity, order: id },
    options,
  );
  if (!reserved.ok) return relay(reserved); // 404 unknown sku, 409 insufficient stock
  const reservation = reserved.body;
  const amount = reservation.unitPrice * request.quantity;

  // If the charge fails for any reason, give the stock back before answering.
  const release = () =>
    callJson('inventory', 'DELETE', `/reservations/${reservation.id}`, undefined, options);
  const charged = await callJson<{ id: string }>(
    'payments',
    'POST',
    '/charges',
    { order: id, amount, card: request.card },
    { ...options, timeoutMs: 5_000 },
  ).catch(async (error: unknown) => {
    await release();
    throw error;
  });
  if (!charged.ok) {
    await release();
    return relay(charged); // 402 declined
  }

  const order: Order = {
    id,
    sku: request.sku,
    quantity: request.quantity,
    amount,
    charge: charged.body.id,
    status: 'confirmed',
    createdAt: new Date().toISOString(),
  };
  orders.set(id, order);
  log('info', 'order placed', { order: id, sku: order.sku, quantity: order.quantity, amount });
  notify(order, forward, log);
  return json(201, order);
};

// Not awaited: the customer should not wait for an email, nor lose the order over one.
function notify(order: Order, headers: Readonly<Record<string, string>>, log: Logger): void {
  const message = `Order ${order.id}: ${order.quantity} x ${order.sku} confirmed.`;
  callJson(
    'notifications',
    'POST',
    '/notify',
    { topic: 'order-confirmed', message },
    { headers, timeoutMs: 1_000 },
  )
    .then((reply) => {
      if (!reply.ok) log('warn', 'notification refused', { order: order.id, status: reply.status });
    })
    .catch((error: unknown) => {
      log('warn', 'notification skipped', { order: order.id, reason: (error as Error).message });
    });
}

const listOrders: Handler = () => json(200, { orders: [...orders.values()] });

const getOrder: Handler = ({ params }) => {
  const order = orders.get(params.id ?? '');
  return order ? json(200, order) : problem(404, 'unknown-order', `no order "${params.id}"`);
};

serve({
  name: 'orders',
  version: '2.1.0',
  defaultPort: 7102,
  routes: {
    'POST /orders': placeOrder,
    'GET /orders': listOrders,
    'GET /orders/:id': getOrder,
    // The gateway's public route (/api/orders, GET only) arrives unchanged.
    'GET /api/orders': listOrders,
    'GET /api/orders/:id': getOrder,
  },
});
