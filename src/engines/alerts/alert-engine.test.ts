import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import type { SloSlot } from '../../domain/alerts/slo.ts';
import type { Store } from '../../ports/store.ts';
import { RevisionEngine } from '../revisions/revision-engine.ts';
import { AlertEngine } from './alert-engine.ts';

const SLOT = 10_000;

const manifest = (webhook: string) => `
name: shop
alerts: { webhook: "${webhook}" }
services:
  orders:
    version: 2.1.0
    tier: critical
    run: { command: node }
    slos:
      - { name: latency, p99: 300ms, for: 30s }
      - { name: errors, errorRate: 1, for: 30s, gate: false }
`;

describe('alert engine', () => {
  let store: Store;
  let clock: FakeClock;
  let engine: RevisionEngine;
  const received: { kind: string; message: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(JSON.parse(body) as { kind: string; message: string });
      response.end();
    });
  });
  let slots: SloSlot[] = [];
  const aborted: string[] = [];

  const makeAlerts = () =>
    new AlertEngine({
      store,
      engine,
      clock,
      logger: pino({ level: 'silent' }),
      slots: () => slots,
      slotMs: SLOT,
      abortRollout: async (service, reason) => {
        aborted.push(`${service}: ${reason}`);
        return true;
      },
    });
  /** Slots ending now: `p99s` oldest first, 100 requests each. */
  const feed = (p99s: number[], errors = 0) => {
    const now = clock.now().getTime();
    slots = p99s.map((p99, i) => ({
      startMs: now - (p99s.length - i) * SLOT,
      count: 100,
      errors,
      p99Ms: p99,
    }));
  };

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    store = await openSqliteStore({ path: ':memory:' });
    clock = new FakeClock();
    engine = new RevisionEngine({ store, clock });
    await engine.apply({ text: manifest(`http://127.0.0.1:${port}/hook`) }, { author: 'test' });
  });
  after(async () => {
    receiver.close();
    await store.close();
  });

  it('fires once the objective is missed for its whole `for`, gates the rollout, and tells the webhook', async () => {
    const alerts = makeAlerts();
    feed([100, 500, 500]);
    await alerts.evaluate();
    assert.deepEqual(alerts.firing(), [], '20 s of misses is not 30 s');
    feed([500, 500, 500]);
    await alerts.evaluate();
    assert.deepEqual(
      alerts.firing().map((a) => `${a.service}/${a.name}`),
      ['orders/latency'],
    );
    assert.deepEqual(aborted, ['orders: alert orders/latency fired: p99 over 300 ms for 30 s']);
    await alerts.evaluate();
    const fired = await store.readEvents({ kinds: ['alert.fired'] });
    assert.equal(fired.length, 1, 'a firing alert does not fire again');
    assert.match(fired[0]!.message, /orders\/latency fired: p99 over 300 ms for 30 s \(now 500 ms\)/);
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(received[0]?.kind, 'alert.fired');
  });

  it('remembers a firing alert across a restart, and resolves it when the objective is met', async () => {
    const restarted = makeAlerts();
    await restarted.start();
    assert.deepEqual(
      restarted.firing().map((a) => a.name),
      ['latency'],
    );
    feed([500, 500, 120]);
    await restarted.evaluate();
    assert.deepEqual(restarted.firing(), []);
    const resolved = await store.readEvents({ kinds: ['alert.resolved'] });
    assert.equal(resolved.length, 1);
    await restarted.stop();
  });

  it('does not gate the rollout for a non-gating objective', async () => {
    const alerts = makeAlerts();
    aborted.length = 0;
    feed([100, 100, 100], 5);
    await alerts.evaluate();
    assert.deepEqual(
      alerts.firing().map((a) => a.name),
      ['errors'],
    );
    assert.deepEqual(aborted, []);
  });
});
