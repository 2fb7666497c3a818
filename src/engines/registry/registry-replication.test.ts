// A follower's registry across a read of the whole picture: what the picture lacks is gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import type { SharedChanges, SharedState } from '../../ports/shared-state.ts';
import { Registry, type InstanceRecord } from './registry.ts';
import { RegistryMirror } from './registry-replication.ts';

const record = (id: string): InstanceRecord => ({
  id,
  service: 'api',
  version: '1.0.0',
  revision: 1,
  specHash: 'h',
  phase: 'running',
  address: '127.0.0.1',
  port: 8080,
  node: 'n',
  pid: undefined,
  startedAt: undefined,
  since: '2026-01-01T00:00:00.000Z',
  restarts: 0,
  health: 'ok',
});

/** Answers reads from a list of answers, in order; announces publishes on demand. */
function scripted(answers: SharedChanges[]) {
  const listeners = new Set<(seq: number) => void>();
  const reads: number[] = [];
  const shared: SharedState = {
    publish: () => Promise.reject(new Error('a follower does not publish')),
    read: (after) => {
      reads.push(after);
      return Promise.resolve(answers.shift() ?? { seq: after, entries: [] });
    },
    onPublish: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => Promise.resolve(),
  };
  const announce = (seq: number) => {
    for (const listener of listeners) listener(seq);
  };
  return { shared, reads, announce };
}

describe('registry mirror', () => {
  it('drops the instances a whole picture read from behind pruned removals lacks', async () => {
    const registry = new Registry({ clock: new FakeClock() });
    const { shared, reads, announce } = scripted([
      {
        seq: 3,
        entries: ['a', 'b', 'c'].map((id) => ({ key: `instance:${id}`, value: record(id) })),
        complete: true,
      },
      // Removals of a and b were pruned before this follower read them: the whole picture.
      { seq: 40, entries: [{ key: 'instance:c', value: record('c') }], complete: true },
      { seq: 41, entries: [{ key: 'instance:d', value: record('d') }] },
    ]);
    const mirror = new RegistryMirror({ registry, shared, logger: pino({ level: 'silent' }) });
    await mirror.start();
    assert.deepEqual(
      registry
        .instances()
        .map((r) => r.id)
        .sort(),
      ['a', 'b', 'c'],
    );
    const caughtUp = async (seq: number) => {
      announce(seq);
      for (let i = 0; i < 50 && mirror.seq !== seq; i++)
        await new Promise((resolve) => setImmediate(resolve));
      assert.equal(mirror.seq, seq);
    };
    await caughtUp(40);
    assert.deepEqual(
      registry.instances().map((r) => r.id),
      ['c'],
    );
    // Changes again: nothing else is dropped.
    await caughtUp(41);
    assert.deepEqual(
      registry
        .instances()
        .map((r) => r.id)
        .sort(),
      ['c', 'd'],
    );
    assert.deepEqual(reads, [0, 3, 40]);
    await mirror.stop();
  });
});
