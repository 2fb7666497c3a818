import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineWheel } from './deadline-wheel.ts';
import type { Expiring } from './deadline-wheel.ts';

function item(name: string, log: string[]): Expiring {
  return { wheelSlot: undefined, wheelIndex: 0, expire: () => log.push(name) };
}

describe('DeadlineWheel', () => {
  it('expires items once their deadline has passed, in slot order, and not cancelled ones', () => {
    const wheel = new DeadlineWheel(5, () => 1000);
    const log: string[] = [];
    const [a, b, c] = [item('a', log), item('b', log), item('c', log)];
    wheel.add(b, 1040);
    wheel.add(a, 1020);
    wheel.add(c, 1030);
    wheel.cancel(c);
    assert.equal(wheel.pending, 2);
    wheel.expireDue(1019);
    assert.deepEqual(log, []);
    wheel.expireDue(1020);
    assert.deepEqual(log, ['a']);
    wheel.expireDue(5000);
    assert.deepEqual(log, ['a', 'b']);
    assert.equal(wheel.pending, 0);
    wheel.stop();
  });

  it('never expires an item before its deadline, at most one slot after', () => {
    const wheel = new DeadlineWheel(10, () => 0);
    const log: string[] = [];
    wheel.add(item('x', log), 101);
    wheel.expireDue(109);
    assert.deepEqual(log, []);
    wheel.expireDue(110);
    assert.deepEqual(log, ['x']);
    wheel.stop();
  });

  it('moves an item re-added with a new deadline', () => {
    const wheel = new DeadlineWheel(5, () => 0);
    const log: string[] = [];
    const a = item('a', log);
    wheel.add(a, 10);
    wheel.add(a, 100);
    assert.equal(wheel.pending, 1);
    wheel.expireDue(50);
    assert.deepEqual(log, []);
    wheel.expireDue(100);
    assert.deepEqual(log, ['a']);
    wheel.stop();
  });

  it('expires on its own, by its interval', async () => {
    const wheel = new DeadlineWheel(5);
    const expired = new Promise<void>((resolve) =>
      wheel.add({ wheelSlot: undefined, wheelIndex: 0, expire: resolve }, performance.now() + 20),
    );
    await expired;
    assert.equal(wheel.pending, 0);
  });
});
