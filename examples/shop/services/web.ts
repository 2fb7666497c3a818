// web: the storefront. One HTML page and the two calls it makes: the catalog (from
// inventory) and checkout (handed to orders). It keeps no state, so any instance will do.
import { callJson } from '../lib/http.ts';
import { badRequest, html, isRecord, relay, serve } from '../lib/service.ts';

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Shop</title>
<style>body { font: 16px system-ui; max-width: 40rem; margin: 2rem auto } li { margin: .5rem 0 }</style>
<h1>Shop</h1>
<ul id="catalog"><li>Loading…</li></ul>
<p id="result" role="status"></p>
<script type="module">
  const catalog = document.getElementById('catalog');
  const result = document.getElementById('result');
  async function load() {
    const { products } = await (await fetch('/api/catalog')).json();
    catalog.replaceChildren(...products.map((p) => {
      const item = document.createElement('li');
      const buy = Object.assign(document.createElement('button'), { textContent: 'Buy one' });
      buy.onclick = () => checkout(p.sku);
      item.append(p.name + ' - ' + (p.price / 100).toFixed(2) + ' EUR - ' + p.stock + ' left ', buy);
      return item;
    }));
  }
  async function checkout(sku) {
    const response = await fetch('/api/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, quantity: 1, card: '4242424242424242' }),
    });
    const body = await response.json();
    result.textContent = response.ok ? 'Thank you! Order ' + body.id : body.detail;
    await load();
  }
  load();
</script>
</html>
`;

serve({
  name: 'web',
  version: '1.3.0',
  defaultPort: 7101,
  routes: {
    'GET /': () => html(PAGE),

    'GET /api/catalog': async ({ forward }) => {
      return relay(await callJson('inventory', 'GET', '/stock', undefined, { headers: forward }));
    },

    // Only the shape is checked here; orders owns the rules.
    'POST /api/checkout': async ({ body, forward }) => {
      if (!isRecord(body))
        return badRequest('the body must be a JSON object with `sku`, `quantity` and `card`');
      const { sku, quantity, card } = body;
      const order = await callJson(
        'orders',
        'POST',
        '/orders',
        { sku, quantity, card },
        { headers: forward, timeoutMs: 8_000 },
      );
      return relay(order);
    },
  },
});
