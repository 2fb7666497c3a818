// inventory with STOCK_FILE: what a pet restarted in place (its container, its volume) finds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

async function startInventory(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ['inventory.ts'], {
    cwd: import.meta.dirname,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', PORT: String(port), ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (
    !(await fetch(`${url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) assert.fail('inventory did not start');
    await delay(20);
  }
  return { child, url };
}

it('keeps its stock and reservations in STOCK_FILE across a kill -9', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-inventory-'));
  const env = { STOCK_FILE: join(dir, 'stock.json') };
  try {
    const first = await startInventory(env);
    const reserved = await fetch(`${first.url}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 2 }),
    });
    assert.equal(reserved.status, 201);
    const { id } = (await reserved.json()) as { id: string };
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await startInventory(env);
    try {
      const stock = (await (await fetch(`${second.url}/stock/tea-sencha`)).json()) as { stock: number };
      assert.equal(stock.stock, 38);
      assert.equal((await fetch(`${second.url}/reservations/${id}`, { method: 'DELETE' })).status, 204);
      const back = (await (await fetch(`${second.url}/stock/tea-sencha`)).json()) as { stock: number };
      assert.equal(back.stock, 40);
    } finally {
      second.child.kill('SIGKILL');
      await once(second.child, 'exit');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
