import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { WorkQueue, type ReconcileResult, type WorkQueueOptions } from './work-queue.ts';

const DONE: ReconcileResult = { kind: 'done' };

interface Call {
  readonly key: string;
  settled: boolean;
  resolve(result: ReconcileResult): void;
  reject(error: unknown): void;
}

type Reply = (key: string) => ReconcileResult | Error;

/**
 * A queue on a FakeClock whose reconcile either answers at once (`reply`) or hands each
 * call to the test to finish (`finish`). `starts` lists keys in the order runs started.
 */
function harness(options: Partial<Omit<WorkQueueOptions, 'clock' | 'reconcile'>> & { reply?: Reply } = {}) {
  const clock = new FakeClock();
  const calls: Call[] = [];
  const starts: string[] = [];
  const errors: { key: string; error: unknown; attempt: number; retryInMs: number }[] = [];
  const terminals: { key: string; error: string }[] = [];
  const h = {
    clock,
    calls,
    starts,
    errors,
    terminals,
    reply: options.reply,
    queue: undefined as unknown as WorkQueue,
    /** Lets the queue react to what just happened (promise hops), without moving time. */
    settle: () => clock.advance(0),
    /** The run of `key` in progress. */
    open(key: string): Call {
      const call = calls.find((c) => c.key === key && !c.settled);
      assert.ok(call, `${key} is not running`);
      return call;
    },
    async finish(key: string, outcome: ReconcileResult | Error = DONE): Promise<void> {
      const call = h.open(key);
      call.settled = true;
      if (outcome instanceof Error) call.reject(outcome);
      else call.resolve(outcome);
      await h.settle();
    },
    runsOf: (key: string) => starts.filter((k) => k === key).length,
  };
  h.queue = new WorkQueue({
    clock,
    concurrency: 1,
    onError: (key, error, attempt, retryInMs) => errors.push({ key, error, attempt, retryInMs }),
    onTerminal: (key, error) => terminals.push({ key, error }),
    ...options,
    reconcile: (key) => {
      starts.push(key);
      const reply = h.reply;
      if (reply !== undefined) {
        const answer = reply(key);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      }
      return new Promise((resolve, reject) => calls.push({ key, settled: false, resolve, reject }));
    },
  });
  return h;
}

describe('WorkQueue: de-duplication and exclusivity', () => {
  it('runs a key added many times while queued once', async () => {
    const h = harness({ reply: () => DONE });
    for (let i = 0; i < 5; i++) h.queue.add('orders');
    h.queue.add('payments');
    const counts = ({ queued, running, known, processed, adds }: typeof h.queue.stats) => ({
      queued,
      running,
      known,
      processed,
      adds,
    });
    assert.deepEqual(counts(h.queue.stats), { queued: 2, running: 0, known: 2, processed: 0, adds: 2 });
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(h.starts, ['orders', 'payments']);
    assert.deepEqual(counts(h.queue.stats), { queued: 0, running: 0, known: 2, processed: 2, adds: 2 });
  });

  it('never runs a key twice at once; adds during a run make exactly one more run', async () => {
    const h = harness({ concurrency: 4 });
    h.queue.start();
    h.queue.add('orders');
    await h.settle();
    assert.deepEqual(h.starts, ['orders']);
    for (let i = 0; i < 3; i++) h.queue.add('orders');
    await h.settle();
    assert.deepEqual(h.starts, ['orders'], 'not started again while running, despite free workers');
    assert.equal(h.queue.stats.queued, 0, 'a dirty key is not queued twice');
    await h.finish('orders');
    assert.deepEqual(h.starts, ['orders', 'orders']);
    await h.finish('orders');
    await h.queue.idle();
    assert.equal(h.runsOf('orders'), 2);
  });

  it('runs a key that re-adds itself from inside its reconcile once more', async () => {
    const h = harness({});
    let first = true;
    h.reply = (key) => {
      if (first) h.queue.add(key);
      first = false;
      return DONE;
    };
    h.queue.add('orders');
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(h.starts, ['orders', 'orders']);
  });
});

describe('WorkQueue: concurrency and fairness', () => {
  it('runs up to `concurrency` different keys at once, in FIFO order', async () => {
    const h = harness({ concurrency: 2 });
    for (const key of ['a', 'b', 'c', 'd', 'e']) h.queue.add(key);
    h.queue.start();
    await h.settle();
    assert.deepEqual(h.starts, ['a', 'b']);
    assert.equal(h.queue.stats.running, 2);
    assert.equal(h.queue.stats.queued, 3);
    await h.finish('b');
    assert.deepEqual(h.starts, ['a', 'b', 'c']);
    await h.finish('a');
    assert.deepEqual(h.starts, ['a', 'b', 'c', 'd']);
    await h.finish('c');
    await h.finish('d');
    await h.finish('e');
    await h.queue.idle();
    assert.deepEqual(h.starts, ['a', 'b', 'c', 'd', 'e']);
  });

  it('puts a key that was dirty behind the keys already waiting', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.start();
    await h.settle();
    h.queue.add('a');
    h.queue.add('c');
    await h.finish('a');
    assert.equal(h.queue.stats.queued, 2);
    h.queue.add('d');
    await h.finish('b');
    await h.finish('c');
    await h.finish('a');
    await h.finish('d');
    assert.deepEqual(h.starts, ['a', 'b', 'c', 'a', 'd']);
  });

  it('waits for start() before running anything', async () => {
    const h = harness({ reply: () => DONE });
    h.queue.add('a');
    await h.settle();
    assert.deepEqual(h.starts, []);
    h.queue.start();
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(h.starts, ['a']);
  });

  it('rejects a concurrency it cannot honour', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => harness({ concurrency }), RangeError);
    }
    assert.throws(() => harness({ baseBackoffMs: 0 }), RangeError);
    assert.throws(() => harness({ baseBackoffMs: 100, maxBackoffMs: 50 }), RangeError);
    assert.throws(() => harness({ resyncMs: -1 }), RangeError);
  });
});

describe('WorkQueue: failures and backoff', () => {
  it('retries a throwing reconcile after an exponential, capped, jittered backoff', async () => {
    const boom = new Error('store unavailable');
    const h = harness({ reply: () => boom, baseBackoffMs: 100, maxBackoffMs: 1000 });
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const [i, ceiling] of ceilings.entries()) {
      const e = h.errors[i];
      assert.ok(e, `failure ${i + 1} reported`);
      assert.equal(e.key, 'orders');
      assert.equal(e.error, boom);
      assert.equal(e.attempt, i + 1);
      assert.ok(e.retryInMs <= ceiling && e.retryInMs >= ceiling * 0.8, `retry ${i + 1}: ${e.retryInMs}ms`);
      await h.clock.advance(e.retryInMs - 1);
      assert.equal(h.runsOf('orders'), i + 1, 'not retried early');
      await h.clock.advance(1);
      assert.equal(h.runsOf('orders'), i + 2, 'retried when due');
    }
  });

  it('resets the backoff after a success', async () => {
    let fail = true;
    const h = harness({ reply: () => (fail ? new Error('x') : DONE) });
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    assert.deepEqual(
      h.errors.map((e) => e.attempt),
      [1, 2, 3],
    );
    fail = false;
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    assert.equal(h.runsOf('orders'), 4);
    fail = true;
    h.queue.add('orders');
    await h.settle();
    assert.equal(h.errors.at(-1)!.attempt, 1);
  });

  it('keeps backoffs per key', async () => {
    const h = harness({ concurrency: 2, reply: (key) => (key === 'bad' ? new Error('x') : DONE) });
    h.queue.add('bad');
    h.queue.add('good');
    h.queue.start();
    await h.settle();
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    h.queue.add('good');
    await h.settle();
    assert.equal(h.runsOf('good'), 2);
    assert.deepEqual(
      h.errors.map((e) => [e.key, e.attempt]),
      [
        ['bad', 1],
        ['bad', 2],
      ],
    );
  });

  it('derives the jitter from the key and attempt: the same every time, different across keys', async () => {
    const delays = async (keys: string[]) => {
      const h = harness({ concurrency: keys.length, reply: () => new Error('x') });
      for (const key of keys) h.queue.add(key);
      h.queue.start();
      await h.settle();
      return keys.map((key) => h.errors.find((e) => e.key === key)!.retryInMs);
    };
    const keys = Array.from({ length: 20 }, (_, i) => `service-${i}`);
    const first = await delays(keys);
    assert.deepEqual(await delays(keys), first);
    assert.ok(new Set(first).size > 10, `retries spread out: ${first.join(', ')}`);
  });

  it('treats a synchronous throw and a malformed result like a failure', async () => {
    const h = harness({ concurrency: 2 });
    h.reply = (key) => {
      if (key === 'sync') throw new Error('sync');
      return undefined as unknown as ReconcileResult;
    };
    h.queue.add('sync');
    h.queue.add('malformed');
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(
      h.errors.map((e) => [e.key, e.attempt]),
      [
        ['sync', 1],
        ['malformed', 1],
      ],
    );
    assert.match(String(h.errors[1]!.error), /not a ReconcileResult/);
    await h.clock.advance(Math.max(...h.errors.map((e) => e.retryInMs)));
    assert.equal(h.runsOf('sync'), 2, 'retried');
    assert.equal(h.runsOf('malformed'), 2, 'retried');
  });
});

describe('WorkQueue: terminal results and requeue-after', () => {
  it('records a terminal result and does not retry it until the key is added again', async () => {
    const h = harness({ reply: () => ({ kind: 'terminal', error: 'image not found' }), resyncMs: 1000 });
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    assert.deepEqual(h.terminals, [{ key: 'orders', error: 'image not found' }]);
    await h.clock.advance(120_000);
    assert.equal(h.runsOf('orders'), 1, 'neither retried nor resynced');
    assert.equal(h.queue.stats.known, 1);
    h.queue.add('orders');
    await h.settle();
    assert.equal(h.runsOf('orders'), 2);
    assert.equal(h.errors.length, 0);
  });

  it('runs a key added during its terminal run once more', async () => {
    const h = harness({});
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    h.queue.add('orders');
    await h.finish('orders', { kind: 'terminal', error: 'bad' });
    assert.equal(h.runsOf('orders'), 2);
  });

  it('resets the backoff after a terminal result', async () => {
    const h = harness({});
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    await h.finish('orders', new Error('x'));
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    await h.finish('orders', { kind: 'terminal', error: 'bad' });
    h.queue.add('orders');
    await h.settle();
    await h.finish('orders', new Error('x'));
    assert.deepEqual(
      h.errors.map((e) => e.attempt),
      [1, 1],
    );
  });

  it('runs a requeue-after key again after exactly that delay, with its backoff reset', async () => {
    const h = harness({});
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    await h.finish('orders', new Error('x'));
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    await h.finish('orders', new Error('x'));
    await h.clock.advance(h.errors.at(-1)!.retryInMs);
    await h.finish('orders', { kind: 'requeue-after', ms: 5000 });
    const before = h.runsOf('orders');
    await h.clock.advance(4999);
    assert.equal(h.runsOf('orders'), before);
    await h.clock.advance(1);
    assert.equal(h.runsOf('orders'), before + 1);
    await h.finish('orders', new Error('x'));
    assert.deepEqual(
      h.errors.map((e) => e.attempt),
      [1, 2, 1],
    );
  });

  it('requeues at once for requeue-after 0 (or a nonsense delay)', async () => {
    for (const ms of [0, -5, Number.NaN]) {
      const h = harness({});
      h.queue.add('orders');
      h.queue.start();
      await h.settle();
      await h.finish('orders', { kind: 'requeue-after', ms });
      assert.equal(h.runsOf('orders'), 2, String(ms));
    }
  });
});

describe('WorkQueue: delayed adds', () => {
  it('adds a key after the given delay, keeping only the earliest pending one', async () => {
    const h = harness({ reply: () => DONE });
    h.queue.start();
    h.queue.addAfter('orders', 1000);
    h.queue.addAfter('orders', 300);
    h.queue.addAfter('orders', 2000);
    assert.equal(h.clock.pending, 1);
    await h.clock.advance(299);
    assert.equal(h.runsOf('orders'), 0);
    await h.clock.advance(1);
    assert.equal(h.runsOf('orders'), 1);
    await h.clock.advance(10_000);
    assert.equal(h.runsOf('orders'), 1, 'the later delayed adds were dropped');
  });

  it('lets a run that starts first supersede a pending delayed add', async () => {
    const h = harness({ reply: () => DONE });
    h.queue.start();
    h.queue.addAfter('orders', 1000);
    h.queue.add('orders');
    await h.settle();
    assert.equal(h.clock.pending, 0);
    await h.clock.advance(5000);
    assert.equal(h.runsOf('orders'), 1);
  });

  it('adds at once for a zero delay, and counts a delayed key as known', async () => {
    const h = harness({ reply: () => DONE });
    h.queue.addAfter('later', 1000);
    h.queue.addAfter('now', 0);
    assert.deepEqual(h.queue.stats, { queued: 1, running: 0, known: 2, processed: 0, adds: 1, retries: 0 });
  });

  it('lets an add bypass a pending retry; the run cancels the retry', async () => {
    const h = harness({});
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    await h.finish('orders', new Error('x'));
    assert.equal(h.clock.pending, 1);
    h.queue.add('orders');
    await h.settle();
    assert.equal(h.runsOf('orders'), 2, 'ran without waiting for the backoff');
    assert.equal(h.clock.pending, 0, 'the retry timer was cancelled');
    await h.finish('orders');
    await h.clock.advance(60_000);
    assert.equal(h.runsOf('orders'), 2);
  });
});

describe('WorkQueue: resync', () => {
  it('re-adds every known idle key every resyncMs', async () => {
    const h = harness({ reply: () => DONE, resyncMs: 1000 });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.start();
    await h.queue.idle();
    await h.clock.advance(999);
    assert.deepEqual(h.starts, ['a', 'b']);
    await h.clock.advance(1);
    assert.deepEqual(h.starts, ['a', 'b', 'a', 'b']);
    await h.clock.advance(1000);
    assert.deepEqual(h.starts, ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('does not cut a backoff short, nor resync a forgotten key', async () => {
    const h = harness({
      concurrency: 2,
      resyncMs: 1000,
      baseBackoffMs: 5000,
      reply: (key) => (key === 'failing' ? new Error('x') : DONE),
    });
    h.queue.add('failing');
    h.queue.add('deleted');
    h.queue.start();
    await h.queue.idle();
    h.queue.forget('deleted');
    const retryIn = h.errors[0]!.retryInMs;
    assert.ok(retryIn > 3000);
    await h.clock.advance(3000);
    assert.equal(h.runsOf('failing'), 1, 'three resyncs passed, the backoff held');
    assert.equal(h.runsOf('deleted'), 1);
    await h.clock.advance(retryIn - 3000);
    assert.equal(h.runsOf('failing'), 2);
  });

  it('does not resync a key that is already waiting or running', async () => {
    const h = harness({ resyncMs: 1000 });
    h.queue.add('slow');
    h.queue.start();
    await h.settle();
    await h.clock.advance(3000);
    assert.equal(h.runsOf('slow'), 1);
    assert.equal(h.queue.stats.queued, 0);
    await h.finish('slow');
    await h.clock.advance(1000);
    assert.equal(h.runsOf('slow'), 2);
  });
});

describe('WorkQueue: callbacks that fail', () => {
  it('keeps going when onError or onTerminal throws or rejects', async () => {
    const h = harness({
      concurrency: 1,
      onError: () => {
        throw new Error('logger broke');
      },
      // An async callback slips past the `void` type; its rejection must not go unhandled.
      onTerminal: (() => Promise.reject(new Error('event store broke'))) as () => void,
    });
    h.reply = (key) =>
      key === 'fails' ? new Error('x') : key === 'terminal' ? { kind: 'terminal', error: 't' } : DONE;
    for (const key of ['fails', 'terminal', 'fine']) h.queue.add(key);
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(h.starts, ['fails', 'terminal', 'fine']);
    await h.clock.advance(100);
    assert.equal(h.runsOf('fails'), 2, 'the retry was scheduled despite the throwing onError');
  });
});

describe('WorkQueue: forget', () => {
  it('drops a queued key and its pending retry', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.add('c');
    h.queue.forget('b');
    h.queue.forget('never-added');
    assert.deepEqual(h.queue.stats, { queued: 2, running: 0, known: 2, processed: 0, adds: 3, retries: 0 });
    h.queue.start();
    await h.settle();
    await h.finish('a', new Error('x'));
    h.queue.forget('a');
    await h.finish('c');
    await h.clock.advance(60_000);
    assert.deepEqual(h.starts, ['a', 'c']);
    assert.equal(h.clock.pending, 0);
    assert.equal(h.queue.stats.known, 1);
  });

  it('lets a run in progress finish, reports its error, and does not retry it', async () => {
    const h = harness({});
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    h.queue.add('orders');
    h.queue.forget('orders');
    await h.finish('orders', new Error('cleanup failed'));
    await h.clock.advance(60_000);
    assert.equal(h.runsOf('orders'), 1, 'neither the dirty mark nor the error brought it back');
    assert.equal(h.errors.length, 1);
    assert.deepEqual(h.queue.stats, { queued: 0, running: 0, known: 0, processed: 1, adds: 2, retries: 0 });
  });

  it('tracks a key again once it is added after being forgotten mid-run, still one run at a time', async () => {
    const h = harness({ concurrency: 2 });
    h.queue.add('orders');
    h.queue.start();
    await h.settle();
    h.queue.forget('orders');
    h.queue.add('orders');
    await h.settle();
    assert.equal(h.runsOf('orders'), 1, 'not started beside the run in progress');
    await h.finish('orders');
    assert.equal(h.runsOf('orders'), 2);
    assert.equal(h.queue.stats.known, 1);
  });
});

describe('WorkQueue: stop', () => {
  it('waits for in-flight reconciles, cancels timers, and runs nothing more', async () => {
    const h = harness({ concurrency: 2, resyncMs: 1000 });
    for (const key of ['a', 'b', 'c']) h.queue.add(key);
    h.queue.addAfter('d', 500);
    h.queue.start();
    await h.settle();
    await h.finish('b', new Error('x'));
    assert.deepEqual(h.starts, ['a', 'b', 'c']);
    assert.equal(h.clock.pending, 3, 'resync, retry of b and the delayed add of d');
    let stopped = false;
    const stopping = h.queue.stop().then(() => (stopped = true));
    assert.equal(h.clock.pending, 0);
    h.queue.add('e');
    await h.finish('a', new Error('y'));
    assert.equal(stopped, false, 'still waiting for c');
    await h.finish('c');
    await stopping;
    assert.equal(stopped, true);
    await h.clock.advance(120_000);
    assert.deepEqual(h.starts, ['a', 'b', 'c']);
    assert.equal(h.clock.pending, 0, 'the error during shutdown scheduled no retry');
    assert.deepEqual(
      h.errors.map((e) => e.key),
      ['b', 'a'],
      'but it was still reported',
    );
  });

  it('drops keys queued before it, and is final', async () => {
    const h = harness({ reply: () => DONE });
    h.queue.add('a');
    await h.queue.stop();
    h.queue.start();
    await h.queue.idle();
    assert.deepEqual(h.starts, []);
  });
});

describe('WorkQueue: property', () => {
  type Command =
    | { readonly op: 'add'; readonly key: string }
    | { readonly op: 'add-after'; readonly key: string; readonly ms: number }
    | {
        readonly op: 'finish';
        readonly key: string;
        readonly outcome: 'done' | 'error' | 'terminal' | 'requeue';
      }
    | { readonly op: 'advance'; readonly ms: number };

  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), key }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('add-after' as const), key, ms: fc.nat({ max: 500 }) }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('finish' as const),
        key,
        outcome: fc.constantFrom('done' as const, 'error' as const, 'terminal' as const, 'requeue' as const),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.nat({ max: 400 }) }) },
  );

  it('never runs a key beside itself, and runs every key at least once after its last add', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(command, { maxLength: 40 }),
        async (concurrency, commands) => {
          const clock = new FakeClock();
          let tick = 0;
          const lastAdd = new Map<string, number>();
          const lastStart = new Map<string, number>();
          const running = new Set<string>();
          // Collected, not asserted inside reconcile: the queue would take a throw there for a failure.
          const violations: string[] = [];
          const open = new Map<string, (outcome: Command & { op: 'finish' }) => void>();
          let draining = false;
          const queue = new WorkQueue({
            clock,
            concurrency,
            baseBackoffMs: 50,
            maxBackoffMs: 400,
            reconcile: (k) => {
              if (running.has(k)) violations.push(`${k} started while running`);
              if (running.size >= concurrency) violations.push(`${k} started with every worker busy`);
              running.add(k);
              lastStart.set(k, ++tick);
              const end = (result: ReconcileResult | Error) => {
                running.delete(k);
                return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
              };
              if (draining) return end(DONE);
              return new Promise<ReconcileResult>((resolve, reject) => {
                open.set(k, (c) => {
                  open.delete(k);
                  const result: ReconcileResult | Error =
                    c.outcome === 'done'
                      ? DONE
                      : c.outcome === 'error'
                        ? new Error('x')
                        : c.outcome === 'terminal'
                          ? { kind: 'terminal', error: 't' }
                          : { kind: 'requeue-after', ms: 100 };
                  end(result).then(resolve, reject);
                });
              });
            },
          });
          queue.start();
          for (const c of commands) {
            if (c.op === 'add') {
              lastAdd.set(c.key, ++tick);
              queue.add(c.key);
            } else if (c.op === 'add-after') queue.addAfter(c.key, c.ms);
            else if (c.op === 'finish') open.get(c.key)?.(c);
            else await clock.advance(c.ms);
            await clock.advance(0);
          }
          // Let everything still in progress finish; any later run succeeds at once.
          draining = true;
          for (const finish of [...open.values()]) finish({ op: 'finish', key: '', outcome: 'done' });
          await clock.advance(10_000);
          await queue.idle();
          assert.deepEqual(violations, []);
          assert.equal(open.size, 0);
          for (const [k, added] of lastAdd) {
            assert.ok((lastStart.get(k) ?? 0) > added, `${k} not reconciled after its last add`);
          }
          await queue.stop();
        },
      ),
      { numRuns: 150 },
    );
  });
});
