import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock/fake-clock.ts';
import { runtimeContract } from '../../../ports/runtime.contract.ts';
import type { Behaviour } from '../../../ports/runtime.contract.ts';
import type { InstanceSpec, LogLine, RuntimeEvent } from '../../../ports/runtime.ts';
import { createSimulatedRuntime } from './simulated-runtime.ts';
import type { SimulatedRuntime, SimulatedRuntimeOptions } from './simulated-runtime.ts';

const STEP_MS = 10;
/** Fake time a wait may take before it fails: far beyond any latency the runtime simulates. */
const MAX_STEPS = 6_000;

function specFor(behaviour: Behaviour, id: string): InstanceSpec {
  return {
    id,
    service: 'orders',
    version: '1.2.3',
    revision: 7,
    workload: {
      run: { command: behaviour === 'unstartable' ? 'baton-no-such-command' : 'node', args: [] },
      volumes: [],
    },
    baseDir: '/srv/orders',
    mode: 'cattle',
    env: behaviour === 'crash' ? { GREETING: 'hello', CRASH_CODE: '3' } : { GREETING: 'hello' },
    ports: [{ name: 'http' }, { name: 'admin' }],
  };
}

/** Faults as the contract's behaviours need them, driven by the spec. */
function simulated(clock: FakeClock, options: Partial<SimulatedRuntimeOptions> = {}): SimulatedRuntime {
  return createSimulatedRuntime({
    clock,
    failStart: (spec) =>
      spec.workload.run?.command === 'baton-no-such-command' ? 'command not found' : undefined,
    exitAfterMs: (spec) => (spec.env.CRASH_CODE === undefined ? undefined : 0),
    exitCode: (spec) => Number(spec.env.CRASH_CODE),
    ...options,
  });
}

async function waitFor(clock: FakeClock, predicate: () => boolean | Promise<boolean>, description: string) {
  for (let step = 0; step < MAX_STEPS; step++) {
    if (await predicate()) return;
    await clock.advance(STEP_MS);
  }
  assert.fail(`no ${description} after ${MAX_STEPS * STEP_MS} ms of fake time`);
}

async function settle<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  const mark = () => void (settled = true);
  promise.then(mark, mark);
  await waitFor(clock, () => settled, 'outcome');
  return promise;
}

runtimeContract('simulated', async () => {
  const clock = new FakeClock();
  const runtime = simulated(clock);
  let count = 0;
  return {
    runtime,
    spec: (behaviour) => specFor(behaviour, `orders-${++count}`),
    environmentOf: async (instance) => runtime.environment(instance.id) ?? assert.fail('no such instance'),
    killFromOutside: (instance) => void runtime.kill(instance.id),
    waitFor: (predicate, description) => waitFor(clock, predicate, description),
    settle: (promise) => settle(clock, promise),
    cleanup: () => runtime.close(),
  };
});

function record(runtime: SimulatedRuntime): RuntimeEvent[] {
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  return events;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('simulated runtime', () => {
  it('starts after startLatencyMs of clock time', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock, { startLatencyMs: 50 });
    let started = false;
    const starting = runtime.start(specFor('serve', 'orders-1')).then((instance) => {
      started = true;
      return instance;
    });
    await clock.advance(49);
    assert.equal(started, false);
    assert.deepEqual(await runtime.list(), []);
    await clock.advance(1);
    assert.equal(started, true);
    assert.equal((await starting).startedAt, clock.now().toISOString());
  });

  it('rejects a start that failStart refuses, with its message', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    const events = record(runtime);
    await assert.rejects(
      settle(clock, runtime.start(specFor('unstartable', 'orders-1'))),
      /command not found/,
    );
    assert.deepEqual(events, []);
  });

  it('crashes an instance exitAfterMs after it started, with exitCode or 1', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock, {
      startLatencyMs: 10,
      exitAfterMs: () => 1_000,
      exitCode: () => undefined,
    });
    const events = record(runtime);
    await settle(clock, runtime.start(specFor('serve', 'orders-1')));
    await clock.advance(999);
    assert.equal(events.length, 1);
    await clock.advance(1);
    assert.deepEqual(events[1], {
      type: 'exited',
      id: 'orders-1',
      service: 'orders',
      code: 1,
      signal: null,
      at: clock.now().toISOString(),
    });
  });

  it('injects crashes and kills at once, and says when there was nothing to hit', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    const events = record(runtime);
    await settle(
      clock,
      Promise.all([runtime.start(specFor('serve', 'a')), runtime.start(specFor('serve', 'b'))]),
    );
    assert.equal(runtime.crash('a', 5), true);
    assert.equal(runtime.kill('b', 'SIGTERM'), true);
    assert.equal(runtime.kill('b'), false);
    assert.equal(runtime.crash('nobody'), false);
    const exits = events.filter((e) => e.type === 'exited').map((e) => [e.id, e.code, e.signal]);
    assert.deepEqual(exits, [
      ['a', 5, null],
      ['b', null, 'SIGTERM'],
    ]);
  });

  it('exits a stopped instance with SIGTERM after stopLatencyMs, at most graceMs', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock, { stopLatencyMs: 100 });
    const events = record(runtime);
    await settle(clock, runtime.start(specFor('serve', 'orders-1')));
    let stopped = false;
    const stopping = runtime.stop('orders-1', { graceMs: 30 }).then(() => void (stopped = true));
    await clock.advance(29);
    assert.equal(stopped, false);
    assert.equal((await runtime.list()).length, 1, 'listed while it stops');
    await clock.advance(1);
    await stopping;
    assert.deepEqual(events.at(-1), {
      type: 'exited',
      id: 'orders-1',
      service: 'orders',
      code: null,
      signal: 'SIGTERM',
      at: clock.now().toISOString(),
    });
  });

  it('cancels a start that is stopped before it completes, reporting nothing', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    const events = record(runtime);
    const starting = runtime.start(specFor('serve', 'orders-1'));
    await runtime.stop('orders-1', { graceMs: 1_000 });
    await assert.rejects(starting, /stopped before it started/);
    await clock.advance(1_000);
    assert.deepEqual(events, []);
    assert.deepEqual(await runtime.list(), []);
  });

  it('gives the same addresses, ports and times for the same calls', async () => {
    const run = async () => {
      const clock = new FakeClock();
      const runtime = simulated(clock);
      for (let i = 0; i < 300; i++) {
        void runtime.start(specFor('serve', `orders-${i}`));
        if (i % 7 === 0) await clock.advance(3);
      }
      await clock.advance(100);
      return runtime.list();
    };
    const first = await run();
    assert.equal(first.length, 300);
    assert.equal(new Set(first.map((i) => i.address)).size, 300);
    assert.deepEqual(await run(), first);
  });

  it('tails and follows the lines written for an instance', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    await settle(
      clock,
      Promise.all([runtime.start(specFor('serve', 'a')), runtime.start(specFor('serve', 'b'))]),
    );
    runtime.write('a', 'one');
    runtime.write('a', 'two');
    runtime.write('a', 'oops', 'stderr');
    runtime.write('b', 'other');
    assert.deepEqual(await collect(runtime.logs({ service: 'orders', instance: 'a', tail: 2 })), [
      { instance: 'a', stream: 'stdout', line: 'two' },
      { instance: 'a', stream: 'stderr', line: 'oops' },
    ]);
    assert.deepEqual(
      await collect(runtime.logs({ service: 'orders', tail: 2 })),
      [
        { instance: 'a', stream: 'stderr', line: 'oops' },
        { instance: 'b', stream: 'stdout', line: 'other' },
      ],
      'the tail is across instances, in the order written',
    );
    assert.equal((await collect(runtime.logs({ service: 'orders' }))).length, 4);
    assert.deepEqual(await collect(runtime.logs({ service: 'payments' })), []);
    // Gone instances are left out unless asked for, by name or with `all`.
    runtime.crash('a');
    await clock.advance(0);
    assert.deepEqual(
      (await collect(runtime.logs({ service: 'orders' }))).map((l) => l.line),
      ['other'],
    );
    assert.equal((await collect(runtime.logs({ service: 'orders', all: true }))).length, 4);
    assert.equal((await collect(runtime.logs({ service: 'orders', instance: 'a' }))).length, 3);
    assert.throws(() => runtime.write('nobody', 'x'), /unknown instance/);

    const abort = new AbortController();
    const followed: LogLine[] = [];
    const following = (async () => {
      const query = { service: 'orders', instance: 'b', tail: 0, follow: true, signal: abort.signal };
      for await (const line of runtime.logs(query)) followed.push(line);
    })();
    await clock.advance(0);
    runtime.write('a', 'not followed');
    runtime.write('b', 'followed');
    await clock.advance(0);
    abort.abort();
    await following;
    assert.deepEqual(followed, [{ instance: 'b', stream: 'stdout', line: 'followed' }]);
  });

  it('rejects pending starts on close and leaves started instances be', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    await settle(clock, runtime.start(specFor('serve', 'a')));
    const pending = runtime.start(specFor('serve', 'b'));
    await runtime.close();
    await assert.rejects(pending, /closed/);
    assert.deepEqual(
      (await runtime.list()).map((i) => i.id),
      ['a'],
    );
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('runs 100,000 instances', async () => {
    const clock = new FakeClock();
    const runtime = simulated(clock);
    const count = 100_000;
    const starts: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) starts.push(runtime.start(specFor('serve', `orders-${i}`)));
    await clock.advance(50);
    await Promise.all(starts);
    const listed = await runtime.list();
    assert.equal(listed.length, count);
    assert.equal(new Set(listed.map((i) => `${i.address}:${i.port}`)).size, count);
    const events = record(runtime);
    await Promise.all(listed.map((i) => runtime.stop(i.id, { graceMs: 1_000 })).concat(clock.advance(10)));
    assert.equal(events.length, count);
    assert.deepEqual(await runtime.list(), []);
  });
});
