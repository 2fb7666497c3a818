import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceRed } from './instance-red.ts';
import { spanOf } from './test-spans.ts';

const T0 = 1_700_000_000_000;
const NOW = T0 + 60_000;
const options = { slotMs: 10_000, slots: 60, maxInstances: 3 };
const sum = (red: InstanceRed, ids: string[]) =>
  red.series(ids, NOW).reduce((acc, p) => ({ count: acc.count + p.count, errors: acc.errors + p.errors }), {
    count: 0,
    errors: 0,
  });

/** What the gateway sends for a request it routed to an instance that sends no spans. */
const gatewaySpan = (id: string, instance: string, status: number) =>
  spanOf({
    id,
    service: 'gateway',
    kind: 'server',
    attributes: {
      'baton.upstream.service': 'app',
      'baton.upstream.instance': instance,
      'http.response.status_code': status,
    },
  });

describe('RED figures per instance', () => {
  it('counts what the data plane saw each instance answer, and sums the ones asked for', () => {
    const red = new InstanceRed(options);
    red.observe(gatewaySpan('a', 'app-1', 500), NOW);
    red.observe(gatewaySpan('b', 'app-1', 200), NOW);
    red.observe(gatewaySpan('c', 'app-2', 200), NOW);
    assert.deepEqual(sum(red, ['app-1']), { count: 2, errors: 1 });
    assert.deepEqual(sum(red, ['app-1', 'app-2']), { count: 3, errors: 1 });
    assert.deepEqual(sum(red, ['app-9']), { count: 0, errors: 0 });
  });

  it("prefers an instance's own server spans to the data plane's, never counting one request twice", () => {
    const red = new InstanceRed(options);
    red.observe(
      spanOf({ id: 'own', service: 'app', instance: 'app-1', kind: 'server', status: 'error' }),
      NOW,
    );
    red.observe(gatewaySpan('gw', 'app-1', 500), NOW);
    assert.deepEqual(sum(red, ['app-1']), { count: 1, errors: 1 });
  });

  it('keeps at most maxInstances: instance ids come from the network', () => {
    const red = new InstanceRed(options);
    for (const id of ['a', 'b', 'c', 'd']) red.observe(gatewaySpan(id, `app-${id}`, 200), NOW);
    assert.deepEqual(sum(red, ['app-a', 'app-b', 'app-c', 'app-d']), { count: 3, errors: 0 });
    red.prune(NOW + 3_600_000);
    assert.deepEqual(
      red.series(['app-a'], NOW + 3_600_000).filter((p) => p.count > 0),
      [],
    );
  });
});
