import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Bulkhead } from './bulkhead.ts';

describe('Bulkhead', () => {
  it('admits up to the limit, queues up to the queue size, refuses the rest', () => {
    const b = new Bulkhead<string>(2, 1);
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.enqueue('w1'), true);
    assert.equal(b.enqueue('w2'), false);
    assert.equal(b.release(), 'w1', 'the slot passes to the first waiter');
    assert.equal(b.active, 2);
    assert.equal(b.release(), undefined);
    assert.equal(b.active, 1);
  });

  it('does not let a newcomer overtake waiters', () => {
    const b = new Bulkhead<string>(1, 5);
    b.tryAcquire();
    b.enqueue('w1');
    assert.equal(b.tryAcquire(), false);
  });

  it('lets a waiter leave the queue', () => {
    const b = new Bulkhead<string>(1, 5);
    b.tryAcquire();
    b.enqueue('w1');
    b.enqueue('w2');
    assert.equal(b.remove('w1'), true);
    assert.equal(b.remove('w1'), false);
    assert.equal(b.release(), 'w2');
  });

  it('admits waiters when the limit is raised', () => {
    const b = new Bulkhead<string>(1, 5);
    b.tryAcquire();
    b.enqueue('w1');
    b.enqueue('w2');
    b.configure(3, 5);
    assert.deepEqual(b.admitWaiting(), ['w1', 'w2']);
    assert.equal(b.active, 3);
  });

  it('never has more than limit in flight nor more than queue waiting', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.boolean(), { maxLength: 100 }),
        (limit, queue, ops) => {
          const b = new Bulkhead<number>(limit, queue);
          let id = 0;
          const running = new Set<number>();
          for (const arrive of ops) {
            if (arrive) {
              const me = id++;
              if (b.tryAcquire()) running.add(me);
              else b.enqueue(me);
            } else if (running.size > 0) {
              const done = running.values().next().value!;
              running.delete(done);
              const next = b.release();
              if (next !== undefined) running.add(next);
            }
            assert.equal(b.active, running.size);
            assert.ok(b.active <= limit && b.queued <= queue);
          }
        },
      ),
    );
  });
});
