// The controller on the simulated runtime and a fake clock: deterministic, no real sleeps.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { SimulatedProber } from '../../adapters/runtime/simulated/simulated-prober.ts';
import {
  createSimulatedRuntime,
  type SimulatedRuntime,
} from '../../adapters/runtime/simulated/simulated-runtime.ts';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import type { Prober, ProbeTarget } from '../../ports/prober.ts';
import type { InstanceSpec } from '../../ports/runtime.ts';
import { BatonError } from '../../domain/errors.ts';
import type { Store } from '../../ports/store.ts';
import { Registry } from '../registry/registry.ts';
import { RevisionEngine } from '../revisions/revision-engine.ts';
import { TrafficControl } from '../traffic/traffic-control.ts';
import { Controller } from './controller.ts';

interface Harness {
  clock: FakeClock;
  store: Store;
  runtime: SimulatedRuntime;
  registry: Registry;
  engine: RevisionEngine;
  controller: Controller;
  transitions: string[];
  /** Every process launch (→ starting): service, version and fake time. */
  launches: { service: string; version: string; at: number }[];
  /** When instances of a service and version began to serve (→ running), in fake time. */
  servedAt: (service: string, version: string) => number[];
  traffic: TrafficControl | undefined;
}

function manifest(
  over: {
    ordersVersion?: string;
    ordersInstances?: number | string;
    inventoryMode?: string;
    deadline?: string;
    crashLoopLimit?: number;
  } = {},
) {
  return `
name: shop
services:
  inventory:
    version: 1.0.0
    tier: critical
    mode: ${over.inventoryMode ?? 'pet'}
    run: { command: node }
    health: { http: { path: /healthz }, interval: 1s, startupGrace: 2s }
  orders:
    version: ${over.ordersVersion ?? '2.0.0'}
    tier: critical
    instances: ${over.ordersInstances ?? 3}
    run: { command: node }
    health: { http: { path: /healthz }, interval: 1s, failureThreshold: 2, startupGrace: 2s }
    dependsOn: { inventory: ^1.0.0 }
    rollout: { maxSurge: 1, maxUnavailable: 0, deadline: ${over.deadline ?? '30s'}, crashLoopLimit: ${over.crashLoopLimit ?? 3} }
`;
}

async function harness(
  options: {
    failHealthOf?: (version: string) => boolean;
    /** Instances of this version die this long after they start, saying why on stderr. */
    crashOf?: { version: string; afterMs: number; stderr: string };
    traffic?: boolean;
    /** Wraps the simulated prober (to fail one probe path and not another). */
    prober?: (simulated: Prober) => Prober;
    /** Wraps the store (to make it fail). */
    store?: (store: Store) => Store;
    /** Refuses starts, as the runtime's error says. */
    failStart?: (spec: InstanceSpec) => BatonError | undefined;
  } = {},
): Promise<Harness> {
  const clock = new FakeClock();
  const sqlite = await openSqliteStore({ path: ':memory:' });
  const store = options.store ? options.store(sqlite) : sqlite;
  const crash = options.crashOf;
  const runtime = createSimulatedRuntime({
    clock,
    startLatencyMs: 100,
    exitAfterMs: (spec) => (spec.version === crash?.version ? crash.afterMs : undefined),
    failStart: options.failStart,
  });
  if (crash)
    runtime.subscribe((e) => {
      if (e.type !== 'started' || e.instance.version !== crash.version) return;
      runtime.write(e.instance.id, crash.stderr, 'stderr');
      // It dies while starting: it never answers a probe.
      runtime.failHealth(e.instance.id);
    });
  const transitions: string[] = [];
  const launches: Harness['launches'] = [];
  const served: Harness['launches'] = [];
  const servedAt = (service: string, version: string) =>
    served.filter((s) => s.service === service && s.version === version).map((s) => s.at);
  const registry = new Registry({
    clock,
    onTransition: (r) => {
      transitions.push(`${r.record.id}:${r.from}->${r.record.phase}`);
      const at = clock.now().getTime();
      const { service, version } = r.record;
      if (r.record.phase === 'starting') launches.push({ service, version, at });
      if (r.record.phase === 'running') served.push({ service, version, at });
    },
    onIllegal: (record, to, cause, reason) =>
      assert.fail(`illegal transition of ${record.id} to ${to} (${cause}): ${reason}`),
  });
  if (options.failHealthOf) {
    runtime.subscribe((e) => {
      if (e.type === 'started' && options.failHealthOf!(e.instance.version))
        runtime.failHealth(e.instance.id);
    });
  }
  const engine = new RevisionEngine({ store, clock });
  const traffic = options.traffic
    ? new TrafficControl({ store, engine, registry, clock, newId: () => 'fault', epoch: 'test' })
    : undefined;
  await traffic?.start();
  const controller = new Controller({
    store,
    runtime,
    registry,
    prober: options.prober ? options.prober(new SimulatedProber(runtime)) : new SimulatedProber(runtime),
    revisions: engine,
    clock,
    logger: pino({ level: 'silent' }),
    defaultBaseDir: '/srv',
    drainMs: 200,
    stopGraceMs: 1000,
    resyncMs: 10_000,
    traffic,
  });
  await controller.start();
  return { clock, store, runtime, registry, engine, controller, transitions, launches, servedAt, traffic };
}

/** Advances fake time in small steps until `done` holds; fails after `maxMs` of fake time. */
async function until(h: Harness, done: () => boolean, maxMs = 60_000, onStep?: () => void): Promise<void> {
  for (let t = 0; t <= maxMs; t += 100) {
    if (done()) return;
    await h.clock.advance(100);
    onStep?.();
  }
  assert.fail(`condition not reached within ${maxMs} ms of fake time`);
}

/** Stops the controller, moving fake time on meanwhile: a pass in flight may wait for the runtime's clock. */
async function shutdown(h: Harness): Promise<void> {
  let stopped = false;
  const stopping = h.controller.stop({ stopInstances: false }).then(() => (stopped = true));
  for (let n = 0; !stopped && n < 1_000; n++) await h.clock.advance(100);
  await stopping;
}

const settledAll = (h: Harness) => {
  const states = h.controller.states();
  return states.length > 0 && states.every((s) => s.settled);
};

describe('Controller on the simulated runtime', () => {
  let h: Harness;
  beforeEach(async () => (h = await harness()));
  afterEach(async () => {
    await shutdown(h);
    await h.store.close();
  });

  it('brings a revision up: start → health → register, and records it converged', async () => {
    await h.engine.apply({ text: manifest() }, { author: 'test' });
    await until(h, () => settledAll(h));
    assert.equal(h.registry.endpoints('orders').length, 3);
    assert.equal(h.registry.endpoints('inventory').length, 1);
    const anOrder = h.registry.instances('orders')[0]!.id;
    const path = h.transitions.filter((t) => t.startsWith(anOrder + ':')).map((t) => t.split(':')[1]);
    assert.deepEqual(path, ['provisioning->starting', 'starting->ready', 'ready->running']);
    await until(h, () => h.controller.states().every((s) => s.phase === 'running'));
    const converged = await h.store.readEvents({ kinds: ['revision.converged'] });
    assert.deepEqual(
      converged.map((e) => e.revision),
      [1],
    );
  });

  it('replaces a killed cattle instance with a new id, and restarts a killed pet in place', async () => {
    await h.engine.apply({ text: manifest() }, { author: 'test' });
    await until(h, () => settledAll(h));
    const [victim] = h.registry.instances('orders');
    h.runtime.kill(victim!.id);
    assert.ok(
      !h.registry.endpoints('orders').some((e) => e.instance === victim!.id),
      'out of discovery at once',
    );
    await until(h, () => settledAll(h) && h.registry.endpoints('orders').length === 3);
    assert.ok(!h.registry.instances('orders').some((i) => i.id === victim!.id), 'cattle: the old id is gone');

    const [pet] = h.registry.instances('inventory');
    h.runtime.kill(pet!.id);
    await until(h, () => settledAll(h) && h.registry.endpoints('inventory').length === 1);
    const after = h.registry.instances('inventory');
    assert.deepEqual(
      after.map((i) => i.id),
      [pet!.id],
      'pet: same id',
    );
    assert.equal(after[0]!.restarts, 1);
  });

  it('rolls an update within maxSurge 1 / maxUnavailable 0, providers first', async () => {
    await h.engine.apply({ text: manifest() }, { author: 'test' });
    await until(h, () => settledAll(h));
    await h.engine.apply({ text: manifest({ ordersVersion: '2.1.0' }) }, { author: 'test' });
    let maxAlive = 0;
    let minServing = Infinity;
    await until(
      h,
      () => settledAll(h) && h.registry.instances('orders').every((i) => i.version === '2.1.0'),
      60_000,
      () => {
        const alive = h.registry
          .instances('orders')
          .filter((i) => !['stopped', 'failed', 'draining'].includes(i.phase));
        maxAlive = Math.max(maxAlive, alive.length);
        minServing = Math.min(minServing, h.registry.endpoints('orders').length);
      },
    );
    assert.ok(maxAlive <= 4, `never more than 3 + 1 alive (saw ${maxAlive})`);
    assert.ok(minServing >= 3, `never fewer than 3 serving (saw ${minServing})`);
    assert.equal(h.registry.endpoints('orders', '^2.1.0').length, 3);
  });

  it('replaces an instance that stays unhealthy, after it has been out of discovery for a while', async () => {
    await h.engine.apply({ text: manifest() }, { author: 'test' });
    await until(h, () => settledAll(h));
    const [sick] = h.registry.instances('orders');
    h.runtime.failHealth(sick!.id);
    await until(h, () => h.registry.get(sick!.id)?.phase === 'unhealthy');
    assert.ok(!h.registry.endpoints('orders').some((e) => e.instance === sick!.id), 'out of discovery');
    await until(h, () => h.registry.get(sick!.id) === undefined && settledAll(h), 60_000);
    assert.equal(h.registry.endpoints('orders').length, 3);
  });

  it('scales within bounds, and restarts by rolling', async () => {
    await h.engine.apply({ text: manifest({ ordersInstances: '{ min: 1, max: 4 }' }) }, { author: 'test' });
    await until(h, () => settledAll(h));
    await h.controller.scale('orders', 1, 'test');
    await until(h, () => settledAll(h) && h.registry.instances('orders').length === 1);
    await h.controller.restart('orders', 'test');
    const before = h.registry.instances('orders')[0]!.id;
    await until(h, () => settledAll(h) && h.registry.instances('orders')[0]?.id !== before);
  });
});

describe('Controller: readiness and liveness', () => {
  const probes = `
name: probed
services:
  api:
    version: 1.0.0
    tier: high
    instances: 2
    run: { command: node }
    readiness: { http: { path: /ready }, interval: 1s, failureThreshold: 2, startupGrace: 2s }
    liveness: { http: { path: /live }, interval: 1s, failureThreshold: 3, startupGrace: 2s }
`;
  /** Fails readiness or liveness for instances on the listed ports. */
  const failing = { ready: new Set<number>(), live: new Set<number>() };
  const prober = (simulated: Prober): Prober => ({
    probe: (target: ProbeTarget, timeoutMs: number) => {
      if (target.kind === 'http' && target.path === '/ready' && failing.ready.has(target.port))
        return Promise.resolve({ ok: false, detail: 'HTTP 503', durationMs: 0 });
      if (target.kind === 'http' && target.path === '/live' && failing.live.has(target.port))
        return Promise.resolve({ ok: false, detail: 'HTTP 500', durationMs: 0 });
      return simulated.probe(target, timeoutMs);
    },
  });

  it('takes an instance failing readiness out of discovery, and never replaces it for that', async () => {
    const h = await harness({ prober });
    try {
      await h.engine.apply({ text: probes }, { author: 'test' });
      await until(h, () => settledAll(h));
      const [busy] = h.registry.instances('api');
      failing.ready.add(busy!.port!);
      await until(h, () => h.registry.get(busy!.id)?.phase === 'unhealthy');
      assert.equal(h.registry.endpoints('api').length, 1, 'out of discovery');
      await h.clock.advance(120_000);
      assert.equal(h.registry.get(busy!.id)?.phase, 'unhealthy', 'still there: readiness only gates traffic');
      failing.ready.delete(busy!.port!);
      await until(h, () => h.registry.get(busy!.id)?.phase === 'running');
    } finally {
      failing.ready.clear();
      await shutdown(h);
      await h.store.close();
    }
  });

  it('replaces an instance failing liveness as soon as its threshold is crossed, saying why', async () => {
    const h = await harness({ prober });
    try {
      await h.engine.apply({ text: probes }, { author: 'test' });
      await until(h, () => settledAll(h));
      const [stuck] = h.registry.instances('api');
      failing.live.add(stuck!.port!);
      await until(h, () => h.registry.get(stuck!.id) === undefined && settledAll(h), 30_000);
      const failed = h.transitions.filter((t) => t.startsWith(`${stuck!.id}:`)).at(-1);
      assert.equal(failed, `${stuck!.id}:running->failed`);
      assert.equal(h.registry.endpoints('api').length, 2, 'a fresh instance took its place');
    } finally {
      failing.live.clear();
      await shutdown(h);
      await h.store.close();
    }
  });
});

describe('Controller: failures', () => {
  it('rolls back automatically to the last converged revision when new instances never turn healthy', async () => {
    const h = await harness({ failHealthOf: (version) => version === '9.9.9' });
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      await h.engine.apply(
        { text: manifest({ ordersVersion: '9.9.9', deadline: '10s', crashLoopLimit: 100 }) },
        { author: 'test' },
      );
      await until(h, () => h.controller.states().length > 0 && h.controller.states().some((s) => !s.settled));
      await until(
        h,
        () => (h.controller.state('orders')?.version ?? '') === '2.0.0' && settledAll(h),
        120_000,
      );
      const latest = await h.engine.latest();
      assert.equal(latest!.number, 3);
      assert.deepEqual(latest!.source, { kind: 'rollback', toRevision: 1 });
      assert.match(latest!.message, /orders 9\.9\.9: did not become healthy within 10s/);
      const failed = await h.store.readEvents({ kinds: ['rollout.failed'] });
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.revision, 2);
      assert.ok(h.registry.endpoints('orders').length === 3, 'the old version kept serving throughout');
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });

  it('fails a crash-looping version after N early deaths, long before its deadline, and says why', async () => {
    const h = await harness({
      crashOf: { version: '9.9.9', afterMs: 300, stderr: "Error: Cannot find module '/srv/orders.ts'" },
    });
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      const applied = h.clock.now().getTime();
      await h.engine.apply(
        { text: manifest({ ordersVersion: '9.9.9', deadline: '10m', crashLoopLimit: 3 }) },
        { author: 'test' },
      );
      await until(h, () => (h.controller.state('orders')?.revision ?? 0) === 2);
      await until(h, () => (h.controller.state('orders')?.revision ?? 0) === 3 && settledAll(h), 600_000);
      const [failed, ...more] = await h.store.readEvents({ kinds: ['rollout.failed'] });
      assert.equal(more.length, 0);
      assert.equal(failed!.data?.['cause'], 'crash-loop');
      assert.match(
        failed!.message,
        /failed before becoming ready 3 times in a row; the last: exit code 1: Error: Cannot find module/,
      );
      assert.deepEqual((failed!.data?.['exit'] as { output: string[] }).output, [
        "Error: Cannot find module '/srv/orders.ts'",
      ]);
      const tookMs = Date.parse(failed!.time) - applied;
      assert.ok(tookMs < 60_000, `failed after ${tookMs} ms of fake time, not at the 10 minute deadline`);
      // Three early deaths, no more: the third fails the rollout, with a backoff between each.
      const starts = h.launches.filter((l) => l.version === '9.9.9');
      assert.equal(starts.length, 3);
      const gaps = starts.slice(1).map((l, i) => l.at - starts[i]!.at);
      assert.ok(gaps[1]! > gaps[0]!, `the backoff grows between replacements (${gaps.join(', ')} ms)`);
      const latest = await h.engine.latest();
      assert.deepEqual(latest!.source, { kind: 'rollback', toRevision: 1 });
      assert.ok(h.registry.endpoints('orders').length === 3, 'the old version kept serving throughout');
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });

  it('loses no decision to a store that fails a write: the pass is retried and decides again', async () => {
    let failures = 1;
    const h = await harness({
      crashOf: { version: '9.9.9', afterMs: 300, stderr: 'Error: boom' },
      store: (store) =>
        new Proxy(store, {
          get(target, key) {
            if (key !== 'appendEvents') {
              const value = Reflect.get(target, key) as unknown;
              return typeof value === 'function'
                ? (value as (...a: unknown[]) => unknown).bind(target)
                : value;
            }
            return async (events: Parameters<Store['appendEvents']>[0]) => {
              if (events.some((e) => e.kind === 'rollout.failed') && failures-- > 0)
                throw new Error('the database went away');
              return target.appendEvents(events);
            };
          },
        }),
    });
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      await h.engine.apply(
        { text: manifest({ ordersVersion: '9.9.9', deadline: '10m' }) },
        { author: 'test' },
      );
      await until(h, () => (h.controller.state('orders')?.revision ?? 0) === 3 && settledAll(h), 600_000);
      assert.equal(failures, -1, 'the first write of the failure did fail');
      const failed = await h.store.readEvents({ kinds: ['rollout.failed'] });
      assert.equal(failed.length, 1, 'recorded once, on the retry');
      assert.deepEqual((await h.engine.latest())!.source, { kind: 'rollback', toRevision: 1 });
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });

  it('stops a rollout that a gate (a firing alert) rejects within its deadline, and rolls it back', async () => {
    const h = await harness();
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      assert.equal(await h.controller.abortRollout('orders', 'no rollout under way'), false);
      await h.engine.apply(
        { text: manifest({ ordersVersion: '2.1.0', deadline: '10m' }) },
        { author: 'test' },
      );
      await until(h, () => (h.controller.state('orders')?.revision ?? 0) === 2);
      assert.equal(await h.controller.abortRollout('web', 'web did not move'), false);
      assert.equal(await h.controller.abortRollout('orders', 'alert orders/latency fired'), true);
      await until(
        h,
        () => (h.controller.state('orders')?.version ?? '') === '2.0.0' && settledAll(h),
        120_000,
      );
      const latest = await h.engine.latest();
      assert.deepEqual(latest!.source, { kind: 'rollback', toRevision: 1 });
      assert.match(latest!.message, /orders 2\.1\.0: alert orders\/latency fired/);
      const [failed] = await h.store.readEvents({ kinds: ['rollout.failed'] });
      assert.equal(failed!.data?.['reason'], 'alert orders/latency fired');
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });

  it('alerts and marks the service failed when a pet keeps dying', async () => {
    const h = await harness();
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      // Kill the pet every time it comes back.
      await until(
        h,
        () => h.controller.state('inventory')?.phase === 'failed',
        300_000,
        () => {
          for (const i of h.registry.instances('inventory'))
            if (i.phase === 'starting' || i.phase === 'running') h.runtime.kill(i.id);
        },
      );
      const alerts = await h.store.readEvents({ kinds: ['alert.restarts-exhausted'] });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.service, 'inventory');
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });

  it('alerts once and leaves the service failed when a start is refused for good', async () => {
    let refuse = false;
    const h = await harness({
      // As the swarm runtime refuses a pet whose volume is on a lost node.
      failStart: (spec) =>
        refuse && spec.service === 'inventory'
          ? new BatonError('instance-unstartable', 'its data cannot follow it to another node')
          : undefined,
    });
    try {
      await h.engine.apply({ text: manifest() }, { author: 'test' });
      await until(h, () => settledAll(h));
      refuse = true;
      for (const i of h.registry.instances('inventory')) h.runtime.kill(i.id);
      await until(h, () => h.controller.state('inventory')?.phase === 'failed');
      await h.clock.advance(60_000);
      const alerts = await h.store.readEvents({ kinds: ['alert.cannot-start'] });
      assert.deepEqual(
        alerts.map((a) => [a.service, a.message]),
        [
          [
            'inventory',
            'inventory cannot start: its data cannot follow it to another node; left failed, a person must look',
          ],
        ],
      );
    } finally {
      await shutdown(h);
      await h.store.close();
    }
  });
});

/** A manifest of simple services: name → version, instances and the ranges it depends on. */
function services(
  specs: Record<string, { version: string; instances?: number; dependsOn?: Record<string, string> }>,
  description = 'services',
): string {
  const lines = [`name: many`, `description: ${description}`, `services:`];
  for (const [name, spec] of Object.entries(specs)) {
    lines.push(
      `  ${name}:`,
      `    version: ${spec.version}`,
      `    tier: high`,
      `    instances: ${spec.instances ?? 1}`,
      `    run: { command: node }`,
      `    health: { http: { path: /healthz }, interval: 1s, startupGrace: 2s }`,
      `    dependsOn: ${JSON.stringify(spec.dependsOn ?? {})}`,
      `    rollout: { deadline: 30s }`,
    );
  }
  return lines.join('\n') + '\n';
}

const settledAt = (h: Harness, service: string, revision: number) => {
  const state = h.controller.state(service);
  return state?.settled === true && state.revision === revision;
};

describe('Controller: order and cost across services', () => {
  let h: Harness;
  beforeEach(async () => (h = await harness()));
  afterEach(async () => {
    await shutdown(h);
    await h.store.close();
  });

  it('updates a consumer only once its provider has settled, and unrelated services side by side', async () => {
    const v1 = { base: '1.0.0', api: '1.0.0', solo: '1.0.0' };
    const text = (v: typeof v1) =>
      services({
        base: { version: v.base, instances: 3 },
        api: { version: v.api, instances: 2, dependsOn: { base: '^1.0.0' } },
        solo: { version: v.solo, instances: 2 },
      });
    await h.engine.apply({ text: text(v1) }, { author: 'test' });
    await until(h, () => settledAll(h));
    const { revision } = await h.engine.apply(
      { text: text({ base: '1.1.0', api: '1.1.0', solo: '1.1.0' }) },
      { author: 'test' },
    );
    const runs = (service: string) => h.registry.instances(service).some((i) => i.version === '1.1.0');
    let baseSettledWhenApiStarted: boolean | undefined;
    let baseSettledWhenSoloStarted: boolean | undefined;
    const apiWaitedFor = new Set<string>();
    await until(
      h,
      () => ['base', 'api', 'solo'].every((s) => settledAt(h, s, revision.number)),
      60_000,
      () => {
        if (runs('api')) baseSettledWhenApiStarted ??= settledAt(h, 'base', revision.number);
        if (runs('solo')) baseSettledWhenSoloStarted ??= settledAt(h, 'base', revision.number);
        for (const s of h.controller.state('api')?.waitingFor ?? []) apiWaitedFor.add(s);
      },
    );
    assert.equal(baseSettledWhenApiStarted, true, 'api rolled only after base had settled');
    assert.equal(baseSettledWhenSoloStarted, false, 'solo shares no range with base: it did not wait');
    assert.deepEqual([...apiWaitedFor], ['base']);
    assert.deepEqual(await h.store.readEvents({ kinds: ['rollout.failed'] }), []);
  });

  it('keeps a rollback consumer-first even when the provider has nothing alive to hold its place', async () => {
    const text = (p: string, c: string, range: string) =>
      services({
        catalog: { version: p, instances: 2 },
        storefront: { version: c, instances: 2, dependsOn: { catalog: range } },
      });
    await h.engine.apply({ text: text('1.0.0', '1.0.0', '>=1.0.0 <3.0.0') }, { author: 'test' });
    await until(h, () => settledAll(h));
    await h.engine.apply({ text: text('2.0.0', '2.0.0', '^2.0.0') }, { author: 'test' });
    await until(h, () => settledAll(h) && (h.controller.state('catalog')?.revision ?? 0) === 2);
    // The provider dies just as the rollback comes: nothing of it is alive to make its step wait.
    for (const i of h.registry.instances('catalog')) h.runtime.kill(i.id);
    const from = h.clock.now().getTime();
    const back = await h.engine.rollback({ to: 1 }, { author: 'test' });
    assert.deepEqual(
      back.plan.rollout.steps.map((s) => s.service),
      ['storefront', 'catalog'],
    );
    await until(h, () => ['catalog', 'storefront'].every((s) => settledAt(h, s, back.revision.number)));
    const launched = (version: string, service: string) =>
      h.launches
        .filter((l) => l.at >= from && l.version === version && l.service === service)
        .map((l) => l.at);
    const consumerServed = Math.max(...h.servedAt('storefront', '1.0.0'));
    assert.ok(launched('1.0.0', 'catalog').length > 0);
    assert.ok(
      Math.min(...launched('1.0.0', 'catalog')) >= consumerServed,
      "catalog's step did not begin before storefront's had finished",
    );
  });

  it('reconciles only the changed service on a one-service change, and records the revision converged', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
    const text = (...bumped: string[]) =>
      services(
        Object.fromEntries(names.map((n) => [n, { version: bumped.includes(n) ? '1.1.0' : '1.0.0' }])),
      );
    await h.engine.apply({ text: text() }, { author: 'test' });
    await until(h, () => names.every((n) => settledAt(h, n, 1)));
    const before = h.controller.queueStats.processed;
    const { revision } = await h.engine.apply({ text: text('svc-7') }, { author: 'test' });
    await until(h, () => settledAt(h, 'svc-7', revision.number));
    assert.ok(
      h.controller.queueStats.processed - before < names.length,
      `passes for the one service only, not for all ${names.length}`,
    );
    assert.ok(
      names.every((n) => settledAt(h, n, revision.number)),
      'every state is at the new revision',
    );
    assert.equal(h.registry.instances('svc-7')[0]?.version, '1.1.0');
    await until(h, () => h.registry.instances('svc-7').length === 1);
    // A second change: the first one's service carries over from the revision it moved in.
    const { revision: third } = await h.engine.apply({ text: text('svc-7', 'svc-3') }, { author: 'test' });
    await until(h, () => settledAt(h, 'svc-3', third.number));
    assert.ok(names.every((n) => settledAt(h, n, third.number)));
    assert.equal(h.registry.instances('svc-7')[0]?.version, '1.1.0');
    const converged = await h.store.readEvents({ kinds: ['revision.converged'] });
    assert.deepEqual(
      converged.map((e) => e.revision),
      [1, revision.number, third.number],
    );
  });

  it('records a revision that changes no service converged at once', async () => {
    const specs = { a: { version: '1.0.0' }, b: { version: '2.0.0' } };
    await h.engine.apply({ text: services(specs) }, { author: 'test' });
    await until(h, () => settledAll(h));
    const { revision } = await h.engine.apply({ text: services(specs, 'reworded') }, { author: 'test' });
    await h.clock.advance(0);
    const converged = await h.store.readEvents({ kinds: ['revision.converged'] });
    assert.deepEqual(
      converged.map((e) => e.revision),
      [1, revision.number],
    );
  });

  it('goes on with a step that waited for a removed service once that service is gone', async () => {
    // lib 2.0.0 breaks old's range: the plan removes old first, then updates lib.
    await h.engine.apply(
      {
        text: services({
          lib: { version: '1.0.0' },
          old: { version: '1.0.0', dependsOn: { lib: '^1.0.0' } },
        }),
      },
      { author: 'test' },
    );
    await until(h, () => settledAll(h));
    const { revision, plan } = await h.engine.apply(
      { text: services({ lib: { version: '2.0.0' } }) },
      { author: 'test' },
    );
    assert.deepEqual(
      plan.rollout.steps.map((s) => s.service),
      ['old', 'lib'],
    );
    await until(h, () => settledAt(h, 'lib', revision.number) && h.registry.instances('old').length === 0);
    assert.deepEqual(
      h.registry.instances('lib').map((i) => i.version),
      ['2.0.0'],
    );
    assert.deepEqual(await h.store.readEvents({ kinds: ['rollout.failed'] }), []);
    // Gone is said once: no `offline` event at every resync for a service nobody declares.
    for (let n = 0; n < 4; n++) await h.clock.advance(10_000);
    const offline = await h.store.readEvents({ service: 'old', kinds: ['service.offline'] });
    assert.equal(offline.length, 1);
  });
});

describe('Controller: a canary rollout', () => {
  const canary = (version: string, pause = '10s') => `
name: shop
services:
  orders:
    version: ${version}
    tier: critical
    instances: 4
    run: { command: node }
    health: { http: { path: /healthz }, interval: 1s, startupGrace: 2s }
    rollout: { strategy: canary, canarySteps: [10, 25, 50], canaryPause: ${pause}, deadline: 2m }
`;

  it('moves traffic and instances step by step, watching each step, and clears its split at the end', async () => {
    const h = await harness({ traffic: true });
    try {
      await h.engine.apply({ text: canary('2.0.0') }, { author: 'test' });
      await until(h, () => settledAll(h));
      assert.equal(h.traffic!.split('orders'), undefined, 'a first deployment is no canary');

      const { revision } = await h.engine.apply({ text: canary('2.1.0') }, { author: 'test' });
      const seen: { share: number; updated: number; at: number }[] = [];
      const started = h.clock.now().getTime();
      await until(
        h,
        () => settledAt(h, 'orders', revision.number) && h.traffic!.split('orders') === undefined,
        120_000,
        () => {
          const share = h.traffic!.split('orders')?.weights['2.1.0'];
          const updated = h.registry.instances('orders').filter((i) => i.version === '2.1.0').length;
          const last = seen.at(-1);
          if (share !== undefined && (last?.share !== share || last.updated < updated))
            seen.push({ share, updated, at: h.clock.now().getTime() - started });
        },
      );
      // Never more new instances than the step's share needs, until the last step.
      const most = (share: number) =>
        Math.max(...seen.filter((s) => s.share === share).map((s) => s.updated));
      assert.equal(most(10), 1);
      assert.equal(most(25), 1);
      assert.equal(most(50), 2);
      const firstAt = (share: number) => seen.find((s) => s.share === share)!.at;
      // 25% needs no more instances than 10%: only the end of the pause moves it on.
      assert.ok(firstAt(25) - firstAt(10) >= 10_000, 'the 10% step was watched for its pause');
      assert.ok(firstAt(50) - firstAt(25) >= 10_000, 'so was the 25% step');
      assert.ok(firstAt(100) - firstAt(50) >= 10_000, 'and the 50% step');

      const splits = await h.store.readEvents({ kinds: ['traffic.split-set', 'traffic.split-cleared'] });
      assert.deepEqual(
        splits.map((e) => [
          e.kind,
          e.actor,
          (e.data?.['split'] as { weights?: Record<string, number> })?.weights,
        ]),
        [
          ['traffic.split-set', 'rollout', { '2.1.0': 10, '2.0.0': 90 }],
          ['traffic.split-set', 'rollout', { '2.1.0': 25, '2.0.0': 75 }],
          ['traffic.split-set', 'rollout', { '2.1.0': 50, '2.0.0': 50 }],
          ['traffic.split-set', 'rollout', { '2.1.0': 100, '2.0.0': 0 }],
          ['traffic.split-cleared', 'rollout', undefined],
        ],
      );
      assert.ok(h.registry.instances('orders').every((i) => i.version === '2.1.0'));
    } finally {
      await shutdown(h);
      h.traffic?.stop();
      await h.store.close();
    }
  });

  it('clears its split when the canary fails and rolls back', async () => {
    const h = await harness({ traffic: true, failHealthOf: (v) => v === '2.1.0' });
    try {
      await h.engine.apply({ text: canary('2.0.0') }, { author: 'test' });
      await until(h, () => settledAll(h));
      await h.engine.apply({ text: canary('2.1.0') }, { author: 'test' });
      await until(h, () => h.traffic!.split('orders') !== undefined);
      const rolledBack = async () =>
        (await h.store.readEvents({ kinds: ['revision.rolled-back'] })).length > 0;
      for (let t = 0; t < 180_000 && !(await rolledBack()); t += 1000) await h.clock.advance(1000);
      const setAt = async () => (await h.store.readEvents({ kinds: ['traffic.split-set'] })).length;
      for (let t = 0; t < 60_000 && (await setAt()) === 0; t += 100) await h.clock.advance(100);
      assert.equal(await setAt(), 1, 'the canary set its split');
      assert.ok(h.registry.instances('orders').every((i) => i.version === '2.0.0'));
    } finally {
      await shutdown(h);
      h.traffic?.stop();
      await h.store.close();
    }
  });
});
