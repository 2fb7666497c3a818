import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { NetworkProber } from '../../adapters/prober/network-prober.ts';
import type { HealthChange, HealthPolicy } from '../../domain/health/health-tracker.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Prober, ProbeResult, ProbeTarget } from '../../ports/prober.ts';
import type { RunningInstance } from '../../ports/runtime.ts';
import { HealthChecker, STARTUP_PROBE_MS } from './health-checker.ts';

const START = Date.parse('2026-01-01T00:00:00Z');
const policy: HealthPolicy = {
  intervalMs: 1000,
  timeoutMs: 500,
  failureThreshold: 2,
  successThreshold: 1,
  startupGraceMs: 5000,
};
const target: ProbeTarget = { kind: 'tcp', address: '127.0.0.1', port: 8080 };

function instance(id: string, startedAt = START): RunningInstance {
  return {
    id,
    service: 'orders',
    version: '1.0.0',
    revision: 1,
    address: '127.0.0.1',
    port: 8080,
    ports: { http: 8080 },
    node: 'local',
    startedAt: new Date(startedAt).toISOString(),
  };
}

/** Answers from a script (`+` pass, `-` fail) per instance port, or holds a probe open when told to. */
class ScriptedProber implements Prober {
  readonly calls: { target: ProbeTarget; timeoutMs: number; signal: AbortSignal | undefined; at: number }[] =
    [];
  hold = false;
  readonly #held: ((result: ProbeResult) => void)[] = [];
  readonly #clock: FakeClock;
  #script: string;

  constructor(clock: FakeClock, script = '') {
    this.#clock = clock;
    this.#script = script;
  }

  probe(probeTarget: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
    this.calls.push({ target: probeTarget, timeoutMs, signal, at: this.#clock.now().getTime() - START });
    if (this.hold) return new Promise((resolve) => this.#held.push(resolve));
    const symbol = this.#script[0] ?? '+';
    this.#script = this.#script.slice(1);
    return Promise.resolve(
      symbol === '+'
        ? { ok: true, detail: 'HTTP 200', durationMs: 1 }
        : { ok: false, detail: 'HTTP 503', durationMs: 1 },
    );
  }

  release(result: ProbeResult): void {
    for (const resolve of this.#held.splice(0)) resolve(result);
  }
}

/**
 * FakeClock.advance looks for due timers before it lets promises settle, so the timer a
 * just-settled probe schedules would be missed; settling first keeps the schedule exact.
 */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  await clock.advance(0);
  await clock.advance(ms);
}

function setup(script = '') {
  const clock = new FakeClock(START);
  const prober = new ScriptedProber(clock, script);
  const changes: string[] = [];
  const checker = new HealthChecker({
    clock,
    prober,
    onChange: (id, change, detail) => changes.push(`${id} ${change} ${detail}`),
  });
  return { clock, prober, changes, checker };
}

describe('HealthChecker', () => {
  it('probes at once, then every interval, with the timeout and target it was given', async () => {
    const { clock, prober, checker } = setup();
    checker.watch(instance('a'), policy, target);
    assert.equal(prober.calls.length, 1);
    await advance(clock, 3500);
    assert.deepEqual(
      prober.calls.map((c) => c.at),
      [0, 1000, 2000, 3000],
    );
    assert.ok(prober.calls.every((c) => c.timeoutMs === 500 && c.target === target));
    checker.unwatchAll();
  });

  it('reports transitions as the thresholds are crossed, with the deciding detail', async () => {
    const { clock, changes, checker } = setup('+--+--+');
    checker.watch(instance('a'), policy, target);
    await advance(clock, 6000);
    assert.deepEqual(changes, [
      'a ready HTTP 200',
      'a unhealthy HTTP 503',
      'a recovered HTTP 200',
      'a unhealthy HTTP 503',
      'a recovered HTTP 200',
    ]);
    assert.equal(checker.health('a')?.status, 'healthy');
    checker.unwatchAll();
  });

  it('counts no pass of a port another process holds before the instance is first ready', async () => {
    const clock = new FakeClock(START);
    const prober = new ScriptedProber(clock, '');
    const changes: string[] = [];
    const details: string[] = [];
    let holds = false;
    const checker = new HealthChecker({
      clock,
      prober,
      onChange: (id, change, detail) => changes.push(`${id} ${change} ${detail}`),
      onProbe: (_id, result) => details.push(result.detail),
      owns: async () => holds,
    });
    checker.watch(instance('a'), { ...policy, startupGraceMs: 60_000 }, target);
    await advance(clock, 10 * STARTUP_PROBE_MS);
    assert.deepEqual(changes, [], 'every probe passed, answered by another process: not ready');
    assert.match(details.at(-1)!, /port 8080 answers, but not from this instance: another process holds it/);
    holds = true;
    await advance(clock, STARTUP_PROBE_MS);
    assert.deepEqual(changes, ['a ready HTTP 200']);
    checker.unwatchAll();
  });

  it('measures the startup grace from when the instance started', async () => {
    // Started 4 s ago with a 5 s grace: failures in the first second are forgiven, the
    // next two (probed at the startup cadence) are not.
    const { clock, changes, checker } = setup('-'.repeat(100));
    checker.watch(instance('a', START - 4000), policy, target);
    await advance(clock, 900);
    assert.deepEqual(changes, []);
    await advance(clock, 1000);
    assert.deepEqual(changes, ['a startup-failed HTTP 503']);
  });

  it('probes a starting instance at the startup cadence, then at its interval once ready', async () => {
    // Three failures while the process comes up, then it answers.
    const { clock, prober, changes, checker } = setup('---');
    checker.watch(instance('a'), policy, target);
    await advance(clock, 3 * STARTUP_PROBE_MS);
    assert.deepEqual(changes, ['a ready HTTP 200'], 'ready within four startup probes, not four intervals');
    const probes = prober.calls.length;
    await advance(clock, policy.intervalMs - 1);
    assert.equal(prober.calls.length, probes, 'no probe before the interval once ready');
    await advance(clock, 1);
    assert.equal(prober.calls.length, probes + 1);
  });

  it('stops probing an instance whose startup failed, and keeps its state until unwatched', async () => {
    const { clock, prober, changes, checker } = setup('--');
    checker.watch(instance('a', START - 60_000), policy, target);
    await advance(clock, 10_000);
    assert.deepEqual(changes, ['a startup-failed HTTP 503']);
    assert.equal(prober.calls.length, 2);
    assert.equal(clock.pending, 0);
    assert.equal(checker.health('a')?.status, 'failed');
    checker.unwatch('a');
    assert.equal(checker.health('a'), undefined);
  });

  it('never has two probes in flight for one instance', async () => {
    const { clock, prober, checker } = setup();
    prober.hold = true;
    checker.watch(instance('a'), policy, target);
    await advance(clock, 5000);
    assert.equal(prober.calls.length, 1);
    // Overdue: the next probe starts as soon as the slow one is done.
    prober.hold = false;
    prober.release({ ok: true, detail: 'HTTP 200', durationMs: 5000 });
    await advance(clock, 0);
    assert.deepEqual(
      prober.calls.map((c) => c.at),
      [0, 5000],
    );
    await advance(clock, 1000);
    assert.deepEqual(
      prober.calls.map((c) => c.at),
      [0, 5000, 6000],
    );
    checker.unwatchAll();
  });

  it('keeps to the interval measured from the start of a probe that took part of it', async () => {
    const { clock, prober, checker } = setup();
    prober.hold = true;
    checker.watch(instance('a'), policy, target);
    await advance(clock, 300);
    prober.hold = false;
    prober.release({ ok: true, detail: 'HTTP 200', durationMs: 300 });
    await advance(clock, 700);
    assert.deepEqual(
      prober.calls.map((c) => c.at),
      [0, 1000],
    );
    checker.unwatchAll();
  });

  it('unwatching cancels the next probe, aborts the one in flight and ignores its result', async () => {
    const { clock, prober, changes, checker } = setup();
    prober.hold = true;
    checker.watch(instance('a'), policy, target);
    const inFlight = prober.calls[0]?.signal;
    assert.equal(inFlight?.aborted, false);
    checker.unwatch('a');
    assert.equal(inFlight?.aborted, true);
    prober.release({ ok: true, detail: 'HTTP 200', durationMs: 1 });
    await advance(clock, 5000);
    assert.deepEqual(changes, []);
    assert.equal(prober.calls.length, 1);
    assert.equal(clock.pending, 0);
  });

  it('unwatchAll stops every instance and leaves no timer behind', async () => {
    const { clock, prober, checker } = setup();
    for (const id of ['a', 'b', 'c']) checker.watch(instance(id), policy, target);
    await advance(clock, 1000);
    assert.equal(prober.calls.length, 6);
    assert.equal(clock.pending, 3);
    checker.unwatchAll();
    assert.equal(clock.pending, 0);
    await advance(clock, 5000);
    assert.equal(prober.calls.length, 6);
    assert.equal(checker.health('b'), undefined);
  });

  it('watching again updates the policy and target without a second probe loop or a reset', async () => {
    const { clock, prober, changes, checker } = setup();
    checker.watch(instance('a'), policy, target);
    const moved: ProbeTarget = { kind: 'tcp', address: '127.0.0.1', port: 9090 };
    checker.watch(instance('a'), { ...policy, intervalMs: 2000 }, moved);
    await advance(clock, 5000);
    assert.deepEqual(
      prober.calls.map((c) => [c.at, c.target]),
      [
        [0, target],
        [2000, moved],
        [4000, moved],
      ],
    );
    assert.deepEqual(changes, ['a ready HTTP 200']);
    checker.unwatchAll();
  });

  it('counts a prober that rejects as a failed probe rather than dropping the instance', async () => {
    const clock = new FakeClock(START);
    const changes: HealthChange[] = [];
    const broken: Prober = { probe: () => Promise.reject(new Error('boom')) };
    const checker = new HealthChecker({
      clock,
      prober: broken,
      onChange: (_id, change) => changes.push(change),
    });
    checker.watch(instance('a', START - 60_000), policy, target);
    await advance(clock, 1000);
    assert.deepEqual(changes, ['startup-failed']);
    assert.equal(checker.health('a')?.lastProbe?.detail, 'Error: boom');
  });
});

describe('HealthChecker with the network prober', () => {
  let healthy = true;
  const server = http.createServer((_req, res) => void res.writeHead(healthy ? 200 : 503).end());
  let port = 0;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('follows a real server as its health flips', { timeout: 20_000 }, async () => {
    const changes: { change: HealthChange; detail: string }[] = [];
    let waiting: { change: HealthChange; resolve: () => void } | undefined;
    const next = (change: HealthChange) =>
      new Promise<void>((resolve) => {
        waiting = { change, resolve };
      });
    const checker = new HealthChecker({
      clock: systemClock,
      prober: new NetworkProber(),
      onChange: (_id, change, detail) => {
        changes.push({ change, detail });
        if (waiting?.change === change) waiting.resolve();
      },
    });
    const fast = { ...policy, intervalMs: 20, timeoutMs: 2000, startupGraceMs: 0 };
    try {
      const ready = next('ready');
      checker.watch(instance('real', Date.now()), fast, {
        kind: 'http',
        address: '127.0.0.1',
        port,
        path: '/',
      });
      await ready;
      const unhealthy = next('unhealthy');
      healthy = false;
      await unhealthy;
      const recovered = next('recovered');
      healthy = true;
      await recovered;
    } finally {
      checker.unwatchAll();
    }
    assert.deepEqual(changes, [
      { change: 'ready', detail: 'HTTP 200' },
      { change: 'unhealthy', detail: 'HTTP 503' },
      { change: 'recovered', detail: 'HTTP 200' },
    ]);
  });
});
