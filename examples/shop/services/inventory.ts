// inventory: what the shop sells and how many are left. The stock lives in memory, which
// is why baton.yaml runs it as a `pet`: restarted in place, never replaced by a twin. With
// STOCK_FILE set (its container image sets it to a volume), it is also kept there, and read
// back at start: a pet restarted in place then finds its stock as it left it.
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { badRequest, isRecord, json, noContent, problem, serve } from '../lib/service.ts';

interface Product {
  readonly sku: string;
  readonly name: string;
  /** In cents. */
  readonly price: number;
  stock: number;
}

interface Reservation {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly order: string | undefined;
}

const products = new Map<string, Product>(
  [
    { sku: 'tea-sencha', name: 'Sencha green tea, 100 g', price: 1200, stock: 40 },
    { sku: 'mug-stoneware', name: 'Stoneware mug', price: 1800, stock: 12 },
    { sku: 'kettle-gooseneck', name: 'Gooseneck kettle', price: 5400, stock: 3 },
  ].map((product) => [product.sku, product]),
);
const reservations = new Map<string, Reservation>();

const stockFile = process.env.STOCK_FILE;
if (stockFile) load(stockFile);

function load(file: string): void {
  let saved: { stock: Record<string, number>; reservations: Reservation[] };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return; // first start: nothing saved yet
  }
  for (const [sku, stock] of Object.entries(saved.stock)) {
    const product = products.get(sku);
    if (product) product.stock = stock;
  }
  for (const reservation of saved.reservations) reservations.set(reservation.id, reservation);
}

/** Written whole, then renamed over the old file: a kill mid-write never leaves half a file. */
function save(): void {
  if (!stockFile) return;
  const stock = Object.fromEntries([...products.values()].map((p) => [p.sku, p.stock]));
  writeFileSync(`${stockFile}.tmp`, JSON.stringify({ stock, reservations: [...reservations.values()] }));
  renameSync(`${stockFile}.tmp`, stockFile);
}

function parseReservation(body: unknown): Omit<Reservation, 'id'> | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  const { sku, quantity, order } = body;
  if (typeof sku !== 'string' || sku === '') return '`sku` must be a non-empty string';
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    return '`quantity` must be a positive integer';
  }
  if (order !== undefined && typeof order !== 'string') return '`order` must be a string';
  return { sku, quantity, order };
}

serve({
  name: 'inventory',
  version: '1.8.2',
  defaultPort: 7103,
  routes: {
    'GET /stock': () => json(200, { products: [...products.values()] }),

    'GET /stock/:sku': ({ params }) => {
      const product = products.get(params.sku ?? '');
      return product ? json(200, product) : problem(404, 'unknown-sku', `no product "${params.sku}"`);
    },

    'POST /reservations': ({ body, log }) => {
      const request = parseReservation(body);
      if (typeof request === 'string') return badRequest(request);
      const product = products.get(request.sku);
      if (!product) return problem(404, 'unknown-sku', `no product "${request.sku}"`);
      if (product.stock < request.quantity) {
        return problem(409, 'insufficient-stock', `only ${product.stock} of "${product.sku}" left`);
      }
      product.stock -= request.quantity;
      const reservation = { id: randomUUID(), ...request };
      reservations.set(reservation.id, reservation);
      save();
      log('debug', 'reserved', { ...reservation, remaining: product.stock });
      return json(201, { ...reservation, unitPrice: product.price, remaining: product.stock });
    },

    // Gives the stock back, e.g. when the payment is declined. Releasing twice is harmless.
    'DELETE /reservations/:id': ({ params }) => {
      const reservation = reservations.get(params.id ?? '');
      if (!reservation) return problem(404, 'unknown-reservation', `no reservation "${params.id}"`);
      reservations.delete(reservation.id);
      const product = products.get(reservation.sku);
      if (product) product.stock += reservation.quantity;
      save();
      return noContent();
    },
  },
});
