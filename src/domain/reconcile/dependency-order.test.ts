import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceSpec } from '../manifest/model.ts';
import { dependencyOrder, hardProviders, waitingFor } from './dependency-order.ts';

const spec = (dependsOn: ServiceSpec['dependsOn']) => ({ dependsOn }) as ServiceSpec;

describe('waitingFor', () => {
  const base = {
    predecessors: [],
    isSettled: () => false,
    hardProviders: ['db', 'auth'],
    providerReady: (s: string) => s === 'auth',
  };

  it('holds a service with nothing serving until its hard providers serve (a cold start)', () => {
    assert.deepEqual(waitingFor({ ...base, serving: 0 }), ['db']);
  });

  it('holds nothing back for providers once the service serves: a running service is not stopped by its providers', () => {
    assert.deepEqual(waitingFor({ ...base, serving: 2 }), []);
  });

  it('holds a step until the earlier steps it shares a range with have settled', () => {
    const out = waitingFor({
      ...base,
      serving: 2,
      predecessors: ['catalog', 'search'],
      isSettled: (s) => s === 'search',
    });
    assert.deepEqual(out, ['catalog']);
  });

  it('counts only hard dependencies: an optional one never blocks', () => {
    assert.deepEqual(
      hardProviders(spec({ db: { range: '^1', optional: false }, mail: { range: '^1', optional: true } })),
      ['db'],
    );
  });
});

describe('dependencyOrder', () => {
  it('makes each step wait for the earlier steps of its neighbours, whichever way the range points', () => {
    const manifest = {
      name: 'm',
      services: {
        ui: spec({ hotel: { range: '^1', optional: false } }),
        hotel: spec({}),
        solo: spec({}),
      },
    };
    // A rollback: the consumer goes first.
    const order = dependencyOrder(['ui', 'solo', 'hotel'], manifest, manifest);
    assert.deepEqual(order.predecessors.get('hotel'), ['ui']);
    assert.equal(order.predecessors.get('ui'), undefined);
    assert.equal(order.predecessors.get('solo'), undefined, 'solo shares no range: it rolls side by side');
    assert.deepEqual(order.successors.get('ui'), ['hotel']);
  });
});
