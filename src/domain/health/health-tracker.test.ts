import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_HEALTH,
  healthPolicy,
  initialHealth,
  isReady,
  recordProbe,
  type HealthChange,
  type HealthPolicy,
  type HealthState,
  type HealthStatus,
} from './health-tracker.ts';

const T0 = 1_000_000;
const policy: HealthPolicy = {
  intervalMs: 1000,
  timeoutMs: 500,
  failureThreshold: 3,
  successThreshold: 2,
  startupGraceMs: 10_000,
};

/**
 * Feeds `script` — `+` a success, `-` a failure, one per second from `startAt` — and
 * returns what each probe changed (`.` for nothing) and the final state.
 */
function run(script: string, options: { startAt?: number; policy?: HealthPolicy } = {}) {
  let state = initialHealth(T0);
  let at = options.startAt ?? T0;
  let changes = '';
  const statuses: HealthStatus[] = [];
  for (const symbol of script.replaceAll(' ', '')) {
    const step = recordProbe(state, { ok: symbol === '+', at, detail: symbol }, options.policy ?? policy);
    state = step.state;
    changes += step.change === undefined ? '.' : `[${step.change}]`;
    statuses.push(state.status);
    at += 1000;
  }
  return { state, changes, statuses };
}

describe('healthPolicy', () => {
  it('converts the manifest section to milliseconds', () => {
    assert.deepEqual(
      healthPolicy({
        http: { path: '/ready' },
        interval: '500ms',
        timeout: '2s',
        failureThreshold: 5,
        successThreshold: 2,
        startupGrace: '2m',
      }),
      { intervalMs: 500, timeoutMs: 2000, failureThreshold: 5, successThreshold: 2, startupGraceMs: 120_000 },
    );
  });

  it("uses the schema's defaults when the service has no health section", () => {
    assert.deepEqual(healthPolicy(undefined), {
      intervalMs: 5000,
      timeoutMs: 2000,
      failureThreshold: 3,
      successThreshold: 1,
      startupGraceMs: 30_000,
    });
    assert.equal(DEFAULT_HEALTH.http ?? DEFAULT_HEALTH.tcp ?? DEFAULT_HEALTH.command, undefined);
  });
});

describe('recordProbe', () => {
  const table: readonly {
    name: string;
    script: string;
    startAt?: number;
    changes: string;
    status: HealthStatus;
  }[] = [
    { name: 'a new instance is starting', script: '', changes: '', status: 'starting' },
    { name: 'one success is not enough', script: '+', changes: '.', status: 'starting' },
    { name: 'ready after successThreshold successes', script: '++', changes: '.[ready]', status: 'healthy' },
    { name: 'successes must be consecutive', script: '+-+', changes: '...', status: 'starting' },
    {
      name: 'failures inside the grace do not count',
      script: '-----+ +',
      changes: '......[ready]',
      status: 'healthy',
    },
    {
      name: 'failures past the grace end startup',
      startAt: T0 + 10_000,
      script: '---',
      changes: '..[startup-failed]',
      status: 'failed',
    },
    {
      name: 'only the failures past the grace count',
      startAt: T0 + 8000,
      script: '-- -- -',
      changes: '....[startup-failed]',
      status: 'failed',
    },
    {
      name: 'a success past the grace resets the failure count',
      startAt: T0 + 10_000,
      script: '--+--',
      changes: '.....',
      status: 'starting',
    },
    {
      name: 'failed is terminal',
      startAt: T0 + 10_000,
      script: '---+++',
      changes: '..[startup-failed]...',
      status: 'failed',
    },
    {
      name: 'healthy tolerates fewer failures than the threshold',
      script: '++--+--',
      changes: '.[ready].....',
      status: 'healthy',
    },
    {
      name: 'unhealthy after failureThreshold consecutive failures',
      script: '++ ---',
      changes: '.[ready]..[unhealthy]',
      status: 'unhealthy',
    },
    {
      name: 'no startup grace once it has been ready',
      script: '++---',
      changes: '.[ready]..[unhealthy]',
      status: 'unhealthy',
    },
    {
      name: 'further failures change nothing',
      script: '++ --- ---',
      changes: '.[ready]..[unhealthy]...',
      status: 'unhealthy',
    },
    {
      name: 'recovers after successThreshold successes',
      script: '++ --- ++',
      changes: '.[ready]..[unhealthy].[recovered]',
      status: 'healthy',
    },
    {
      name: 'recovery needs consecutive successes',
      script: '++ --- +-+',
      changes: '.[ready]..[unhealthy]...',
      status: 'unhealthy',
    },
    {
      name: 'flaps as often as the probe does',
      script: '++ --- ++ --- ++',
      changes: '.[ready]..[unhealthy].[recovered]..[unhealthy].[recovered]',
      status: 'healthy',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { state, changes } = run(row.script, row.startAt === undefined ? {} : { startAt: row.startAt });
      assert.equal(changes, row.changes);
      assert.equal(state.status, row.status);
      assert.equal(isReady(state), row.status === 'healthy');
    });
  }

  it('the grace ends exactly startupGrace after the start', () => {
    const one = { ...policy, failureThreshold: 1 };
    const before = recordProbe(initialHealth(T0), { ok: false, at: T0 + 9999 }, one);
    const at = recordProbe(initialHealth(T0), { ok: false, at: T0 + 10_000 }, one);
    assert.equal(before.change, undefined);
    assert.equal(at.change, 'startup-failed');
  });

  it('thresholds of one react to a single probe', () => {
    const p = { ...policy, failureThreshold: 1, successThreshold: 1, startupGraceMs: 0 };
    assert.equal(run('+-+-', { policy: p }).changes, '[ready][unhealthy][recovered][unhealthy]');
    assert.equal(run('-', { policy: p }).changes, '[startup-failed]');
  });

  it('keeps the last probe for display', () => {
    const { state } = run('+-');
    assert.deepEqual(state.lastProbe, { ok: false, at: T0 + 1000, detail: '-' });
  });

  it('does not modify the state it is given', () => {
    const state = initialHealth(T0);
    const copy = structuredClone(state);
    recordProbe(state, { ok: true, at: T0 }, { ...policy, successThreshold: 1 });
    assert.deepEqual(state, copy);
  });
});

describe('recordProbe properties', () => {
  const policies = fc.record({
    intervalMs: fc.constant(1000),
    timeoutMs: fc.constant(500),
    failureThreshold: fc.integer({ min: 1, max: 5 }),
    successThreshold: fc.integer({ min: 1, max: 5 }),
    startupGraceMs: fc.integer({ min: 0, max: 20_000 }),
  });
  const probes = fc.array(fc.record({ ok: fc.boolean(), gap: fc.integer({ min: 0, max: 3000 }) }), {
    maxLength: 80,
  });

  function fold(p: HealthPolicy, list: readonly { ok: boolean; gap: number }[]) {
    let state: HealthState = initialHealth(T0);
    let at = T0;
    const events: { change: HealthChange | undefined; at: number; index: number }[] = [];
    list.forEach((probe, index) => {
      at += probe.gap;
      const step = recordProbe(state, { ok: probe.ok, at }, p);
      state = step.state;
      events.push({ change: step.change, at, index });
    });
    return { state, events };
  }

  it('changes follow the lifecycle: ready once, then unhealthy and recovered alternating', () => {
    fc.assert(
      fc.property(policies, probes, (p, list) => {
        const changes = fold(p, list).events.flatMap((e) => (e.change ? [e.change] : []));
        const text = changes.join(' ');
        // Either nothing, or startup-failed alone, or ready followed by (unhealthy recovered)* [unhealthy].
        assert.match(text, /^(|startup-failed|ready( unhealthy recovered)*( unhealthy)?)$/, text);
      }),
    );
  });

  it('every change is backed by enough consecutive results', () => {
    fc.assert(
      fc.property(policies, probes, (p, list) => {
        for (const e of fold(p, list).events) {
          if (e.change === undefined) continue;
          const wantOk = e.change === 'ready' || e.change === 'recovered';
          const needed = wantOk ? p.successThreshold : p.failureThreshold;
          const run = list.slice(Math.max(0, e.index - needed + 1), e.index + 1);
          assert.equal(run.length, needed);
          assert.ok(run.every((probe) => probe.ok === wantOk));
          if (e.change === 'startup-failed') assert.ok(e.at >= T0 + p.startupGraceMs);
        }
      }),
    );
  });

  it('an instance that passes its probe becomes ready on the successThreshold-th success', () => {
    fc.assert(
      fc.property(policies, fc.nat({ max: 10 }), (p, failuresInGrace) => {
        const list = [
          ...Array.from({ length: failuresInGrace }, () => ({ ok: false, gap: 0 })),
          ...Array.from({ length: p.successThreshold }, () => ({ ok: true, gap: 1 })),
        ];
        const { events, state } = fold({ ...p, startupGraceMs: Math.max(p.startupGraceMs, 1000) }, list);
        assert.equal(events.at(-1)?.change, 'ready');
        assert.equal(state.status, 'healthy');
      }),
    );
  });
});
