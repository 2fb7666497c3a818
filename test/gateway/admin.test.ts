// The admin port's metrics need a token beyond loopback (issue 11, finding 8): they name
// every route and service and their error rates. On loopback they stay open for a local
// Prometheus; /healthz stays open everywhere (load balancers probe it without credentials).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startGatewayCluster } from '../../src/engines/gateway/cluster.ts';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import { runCli } from '../support/baton-process.ts';
import { gatewayWith, send, snapshotOf, silentLogger } from './support.ts';

const snapshot = () => staticSource(snapshotOf({ routes: [], services: {} }));
/** The admin port bound on every address, reached through loopback by the test. */
const local = (adminUrl: string) => `http://127.0.0.1:${new URL(adminUrl).port}`;

describe('gateway admin port', () => {
  it('refuses to start with metrics beyond loopback and no token, saying what to do', async () => {
    await assert.rejects(gatewayWith(snapshot(), { adminHost: '0.0.0.0', adminPort: 0 }), {
      message: /admin address 0\.0\.0\.0 .*needs a token.*--metrics-token-file.*127\.0\.0\.1/,
    });
    await assert.rejects(
      startGatewayCluster({
        host: '127.0.0.1',
        port: 0,
        source: snapshot(),
        logger: silentLogger,
        adminHost: '::',
        adminPort: 0,
        workers: 1,
      }),
      { message: /needs a token/ },
    );
  });

  it('beyond loopback, serves /metrics only with the bearer token; /healthz stays open', async () => {
    const gateway = await gatewayWith(snapshot(), {
      adminHost: '0.0.0.0',
      adminPort: 0,
      metricsToken: 'scrape-me',
    });
    try {
      const url = local(gateway.adminUrl!);
      const anonymous = await send(`${url}/metrics`);
      assert.equal(anonymous.status, 401);
      assert.match(String(anonymous.headers['www-authenticate']), /^Bearer /);
      assert.doesNotMatch(anonymous.text, /baton_gateway/);
      const wrong = await send(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-you' } });
      assert.equal(wrong.status, 401);
      const right = await send(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
      assert.equal(right.status, 200);
      assert.match(right.text, /baton_gateway_in_flight/);
      assert.equal((await send(`${url}/healthz`)).status, 200);
    } finally {
      await gateway.close();
    }
  });

  it('on loopback, serves /metrics without a token unless one is given', async () => {
    const open = await gatewayWith(snapshot(), { adminPort: 0 });
    const closed = await gatewayWith(snapshot(), { adminPort: 0, metricsToken: 'scrape-me' });
    try {
      assert.equal((await send(`${open.adminUrl}/metrics`)).status, 200);
      assert.equal((await send(`${closed.adminUrl}/metrics`)).status, 401);
    } finally {
      await open.close();
      await closed.close();
    }
  });

  it('`baton gateway` refuses a public admin port without a token, or with an empty token file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-metrics-token-'));
    try {
      const refused = await runCli(
        ['--server', 'http://127.0.0.1:1', 'gateway', '--listen', '127.0.0.1:0', '--admin', '0.0.0.0:0'],
        { BATON_METRICS_TOKEN: '' },
      );
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /needs a token/);
      const empty = join(dir, 'empty');
      await writeFile(empty, '\n', { mode: 0o600 });
      const unusable = await runCli([
        '--server',
        'http://127.0.0.1:1',
        'gateway',
        '--listen',
        '127.0.0.1:0',
        '--admin',
        '0.0.0.0:0',
        '--metrics-token-file',
        empty,
      ]);
      assert.equal(unusable.code, 2, unusable.stderr);
      assert.match(unusable.stderr, /metrics token file .* cannot be read or is empty/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
