// Gateway snapshots across a change of leader: held while the registry is rebuilt.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import { fencedStore } from '../leadership/fenced.ts';
import { Registry } from '../registry/registry.ts';
import { RevisionEngine } from '../revisions/revision-engine.ts';
import { TrafficControl } from './traffic-control.ts';

async function harness() {
  const clock = new FakeClock();
  const store = await openSqliteStore({ path: ':memory:' });
  const registry = new Registry({ clock });
  const engine = new RevisionEngine({ store, clock });
  const traffic = new TrafficControl({ store, engine, registry, clock, newId: () => 'id', epoch: 'test' });
  await traffic.start();
  return { clock, store, engine, traffic };
}

/** Whether the promise has settled after the pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('traffic control: holding snapshots', () => {
  it('answers no snapshot while held, and answers once released', async () => {
    const { store, traffic } = await harness();
    const release = traffic.hold(30_000);
    const snapshot = traffic.snapshot();
    assert.equal(await settled(snapshot), false, 'held');
    release();
    assert.equal(await settled(snapshot), true, 'released');
    traffic.stop();
    await store.close();
  });

  it('keeps a waiting snapshot held when a second hold replaces the first before it ends', async () => {
    const { store, traffic } = await harness();
    const handover = traffic.hold(30_000);
    const snapshot = traffic.snapshot();
    // The new leader has adopted instances: it holds on until they are checked.
    const checked = traffic.hold(30_000);
    handover();
    assert.equal(await settled(snapshot), false, 'still held by the second hold');
    checked();
    assert.equal(await settled(snapshot), true);
    traffic.stop();
    await store.close();
  });

  it('lets snapshots go when a hold outlives its longest time', async () => {
    const { clock, store, traffic } = await harness();
    traffic.hold(30_000);
    const snapshot = traffic.snapshot();
    await clock.advance(29_999);
    assert.equal(await settled(snapshot), false);
    await clock.advance(1);
    assert.equal(await settled(snapshot), true);
    traffic.stop();
    await store.close();
  });
});

describe('traffic control: splits a rollout sets', () => {
  it("refuses a leader's split once its term is gone, and still takes an operator's", async () => {
    const { store, engine, traffic } = await harness();
    await engine.apply(
      { text: 'name: t\nservices:\n  api:\n    version: 1.0.0\n    tier: low\n    run: { command: node }\n' },
      { author: 'test' },
    );
    // A leader paused past its lease: it holds no term when it wakes.
    const rollout = traffic.recordingThrough(fencedStore(store, () => undefined, { stamp: false }));
    await assert.rejects(rollout.setSplit('api', { '1.0.0': 100 }, 'canary'), { code: 'leadership-lost' });
    assert.equal(traffic.split('api'), undefined, 'no split recorded');
    const events = await store.readEvents({ kinds: ['traffic.split-set'] });
    assert.equal(events.length, 0);
    await traffic.setSplit('api', { '1.0.0': 100 }, 'alice');
    assert.equal(traffic.split('api')?.setBy, 'alice');
    traffic.stop();
    await store.close();
  });
});
