// README's game day, for real: `baton up` runs the shop with its gateway (the node's data
// plane), and a fault injected on payments, a service no gateway route reaches, acts on the
// calls orders makes to it, because orders calls it at the address Baton gave (PAYMENTS_URL).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, runCli, tempDir } from './support/baton-process.ts';
import { startUp, type UpProcess } from './support/baton-up.ts';
import { authedFetch } from './support/api-token.ts';

const SHOP = join(REPO, 'examples/shop/baton.yaml');

describe("README's game day on the shop", { timeout: 600_000 }, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let up: UpProcess;

  before(async () => {
    dir = await tempDir('game-day');
    up = await startUp(SHOP, join(dir.path, 'state'), ['--gateway', '127.0.0.1:0']);
  });

  after(async () => {
    await up?.stop();
    await dir?.remove();
  });

  const checkout = async (): Promise<number> => {
    const { endpoints } = (await (await authedFetch(up.token)(`${up.url}/v1/discovery/web`)).json()) as {
      endpoints: { port: number }[];
    };
    const response = await fetch(`http://127.0.0.1:${endpoints[0]!.port}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
    });
    await response.text();
    return response.status;
  };

  it('faults on payments act on orders’ calls to it, and end when cleared', async () => {
    const deadline = Date.now() + 60_000;
    while ((await checkout().catch(() => 0)) !== 201) {
      assert.ok(Date.now() < deadline, 'the shop never took a checkout');
      await new Promise((r) => setTimeout(r, 200));
    }
    const inject = await runCli(
      [
        '--server',
        up.url,
        'faults',
        'inject',
        'payments',
        '--abort',
        '503',
        '--abort-percent',
        '100',
        '--for',
        '5m',
      ],
      up.env,
    );
    assert.equal(inject.code, 0, inject.stderr);
    let status = 201;
    const faulted = Date.now() + 30_000;
    while (status === 201) {
      assert.ok(Date.now() < faulted, 'the fault never reached orders → payments');
      status = await checkout();
    }
    assert.equal(status, 503, 'orders relays the injected 503 of payments');
    const clear = await runCli(['--server', up.url, 'faults', 'clear', '--all'], up.env);
    assert.equal(clear.code, 0, clear.stderr);
    const cleared = Date.now() + 30_000;
    while ((await checkout()) !== 201) assert.ok(Date.now() < cleared, 'the fault outlived its clearing');
  });
});
