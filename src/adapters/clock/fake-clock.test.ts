import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from './fake-clock.ts';

describe('FakeClock', () => {
  it('fires due timers in time order, ties in creation order, and moves now to each', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now().getTime()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now().getTime()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now().getTime()}`), 20);
    clock.setTimeout(() => fired.push('late'), 31);
    await clock.advance(30);
    assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
    assert.equal(clock.now().getTime(), 30);
    assert.equal(clock.pending, 1);
  });

  it('fires timers created inside the window, and lets a timer’s async work settle before the next', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('first');
      void Promise.resolve().then(() => clock.setTimeout(() => fired.push('chained'), 5));
    }, 10);
    clock.setTimeout(() => fired.push('second'), 12);
    await clock.advance(20);
    assert.deepEqual(fired, ['first', 'second', 'chained']);
  });

  it('lets the promise chains a timer starts finish before a timer due at the same instant fires', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const deep = async (n: number): Promise<void> => {
      if (n > 0) await deep(n - 1);
    };
    clock.setTimeout(() => void deep(50).then(() => fired.push('chain of 50 awaits done')), 10);
    clock.setTimeout(() => fired.push('same instant'), 10);
    await clock.advance(10);
    assert.deepEqual(fired, ['chain of 50 awaits done', 'same instant']);
  });

  it('never fires a cancelled timer, and does not count it pending', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const timers = Array.from({ length: 3000 }, (_, i) => clock.setTimeout(() => fired.push(i), i % 50));
    timers.forEach((t, i) => i % 3 !== 0 && t.cancel());
    timers[0]!.cancel();
    timers[0]!.cancel();
    assert.equal(clock.pending, 999);
    await clock.advance(100);
    assert.equal(fired.length, 999);
    assert.ok(fired.every((i) => i % 3 === 0 && i !== 0));
    assert.equal(clock.pending, 0);
    timers[3]!.cancel();
    assert.equal(clock.pending, 0, 'cancelling a fired timer changes nothing');
  });

  it('fires any mix of timers and cancellations exactly as a sorted list would', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.nat(200), cancel: fc.boolean() }), { maxLength: 300 }),
        fc.nat(250),
        async (specs, window) => {
          const clock = new FakeClock(0);
          const fired: number[] = [];
          const timers = specs.map((s, i) => clock.setTimeout(() => fired.push(i), s.ms));
          specs.forEach((s, i) => s.cancel && timers[i]!.cancel());
          await clock.advance(window);
          const expected = specs
            .map((s, i) => ({ ...s, i }))
            .filter((s) => !s.cancel && s.ms <= window)
            .sort((a, b) => a.ms - b.ms || a.i - b.i)
            .map((s) => s.i);
          assert.deepEqual(fired, expected);
          assert.equal(clock.pending, specs.filter((s) => !s.cancel && s.ms > window).length);
        },
      ),
      { numRuns: 50 },
    );
  });
});
