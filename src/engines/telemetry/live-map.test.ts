import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { manifestOf } from '../../domain/graph/test-manifest.ts';
import type { EdgeObservation } from '../../domain/telemetry/edge-matcher.ts';
import { spanOf } from '../../domain/telemetry/test-spans.ts';
import { LiveMap } from './live-map.ts';

describe('LiveMap', () => {
  const manifest = manifestOf({ web: { dependsOn: { orders: '^1.0.0' } }, orders: {}, ledger: {} });

  it('draws edges as halves meet, turns lone clients into edges after the wait, and compares with the revision', async () => {
    const clock = new FakeClock();
    const edges: EdgeObservation[] = [];
    let revision = { number: 1, manifest };
    const map = new LiveMap({
      clock,
      revisions: { latest: async () => revision },
      onEdge: (e) => edges.push(e),
      options: { pairWindowMs: 5_000 },
    });
    map.observe(spanOf({ id: 'srv', parent: 'cli', kind: 'server', service: 'orders' }));
    assert.equal(map.pendingSpans(), 1);
    map.observe(spanOf({ id: 'cli', parent: 'root', kind: 'client', service: 'web' }));
    map.observe(
      spanOf({ id: 'lone', kind: 'client', service: 'orders', attributes: { 'peer.service': 'ledger' } }),
    );
    assert.deepEqual(
      edges.map((e) => `${e.caller}→${e.callee}`),
      ['web→orders'],
    );

    await clock.advance(6_000);
    assert.deepEqual(
      edges.map((e) => `${e.caller}→${e.callee}`),
      ['web→orders', 'orders→ledger'],
    );
    assert.equal(map.pendingSpans(), 0);

    const before = await map.snapshot();
    assert.equal(before.revision, 1);
    assert.deepEqual(
      before.drift.undeclared.map((e) => `${e.from}→${e.to}`),
      ['orders→ledger'],
    );

    revision = {
      number: 2,
      manifest: manifestOf({ web: {}, orders: { dependsOn: { ledger: '^1.0.0' } }, ledger: {} }),
    };
    const after = await map.snapshot();
    assert.equal(after.revision, 2);
    assert.deepEqual(
      after.drift.undeclared.map((e) => `${e.from}→${e.to}`),
      ['web→orders'],
    );
    map.close();
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('has no drift to report before the first revision', async () => {
    const map = new LiveMap({ clock: new FakeClock(), revisions: { latest: async () => undefined } });
    const snapshot = await map.snapshot();
    assert.deepEqual([snapshot.revision, snapshot.edges, snapshot.drift.unobserved], [null, [], []]);
    map.close();
  });
});
