import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../manifest/canonical.ts';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { planRollout, type RolloutPlan } from './rollout-plan.ts';
import { brokenRanges, manifest, type ServiceInput } from './test-fixtures.ts';

const order = (plan: RolloutPlan) => plan.steps.map((s) => `${s.action} ${s.service}`);

describe('planRollout', () => {
  const v1 = manifest({
    payments: { version: '1.4.0' },
    orders: { version: '2.0.0', dependsOn: { payments: '^1.4.0' } },
  });
  const v2 = manifest({
    payments: { version: '1.5.0' },
    orders: { version: '2.1.0', dependsOn: { payments: '^1.5.0' } },
  });

  it('upgrades providers first', () => {
    const plan = planRollout(v1, v2);
    assert.deepEqual(plan.steps, [
      { index: 1, service: 'payments', action: 'update', fromVersion: '1.4.0', toVersion: '1.5.0' },
      { index: 2, service: 'orders', action: 'update', fromVersion: '2.0.0', toVersion: '2.1.0' },
    ]);
    assert.equal(plan.ok, true);
    assert.equal(plan.diff.services.length, 2);
  });

  it('downgrades consumers first', () => {
    const plan = planRollout(v2, v1);
    assert.deepEqual(order(plan), ['update orders', 'update payments']);
    assert.deepEqual(plan.breaks, []);
    assert.equal(plan.ok, true);
  });

  it('reports the step, the consumer and the range of a break no order can avoid', () => {
    const target = manifest({
      payments: { version: '2.0.0' },
      orders: { version: '3.0.0', dependsOn: { payments: '^2.0.0' } },
    });
    const plan = planRollout(v2, target);
    assert.equal(plan.ok, false);
    assert.deepEqual(order(plan), ['update payments', 'update orders']);
    assert.deepEqual(plan.breaks, [
      {
        step: 1,
        consumer: 'orders',
        consumerVersion: '2.1.0',
        provider: 'payments',
        providerVersion: '2.0.0',
        range: '^1.5.0',
        message:
          "step 1 (payments 1.5.0 → 2.0.0) breaks orders 2.1.0's range payments ^1.5.0 (payments 2.0.0 does not satisfy it)",
      },
    ]);
  });

  it('reports a provider change that leaves an unchanged consumer behind', () => {
    const target = manifest({
      payments: { version: '2.0.0' },
      orders: { version: '2.1.0', dependsOn: { payments: '^1.5.0' } },
    });
    const plan = planRollout(v2, target);
    assert.deepEqual(order(plan), ['update payments']);
    assert.deepEqual(
      plan.breaks.map((b) => [b.step, b.consumer, b.provider, b.range]),
      [[1, 'orders', 'payments', '^1.5.0']],
    );
  });

  it('adds providers before the services that need them', () => {
    const target = manifest({
      api: { version: '1.0.0', dependsOn: { ledger: '^3.0.0' } },
      ledger: { version: '3.1.0' },
      payments: { version: '1.4.0' },
      orders: { version: '2.0.1', dependsOn: { payments: '^1.4.0', ledger: '^3.0.0' } },
    });
    const plan = planRollout(v1, target);
    assert.deepEqual(order(plan), ['add ledger', 'add api', 'update orders']);
    assert.deepEqual(plan.steps[0], { index: 1, service: 'ledger', action: 'add', toVersion: '3.1.0' });
    assert.equal(plan.ok, true);
  });

  it('removes a provider only after its consumers are gone or no longer need it', () => {
    const current = manifest({
      legacy: { version: '1.0.0' },
      web: { version: '1.0.0', dependsOn: { legacy: '^1.0.0' } },
      orders: { version: '2.0.0', dependsOn: { legacy: '^1.0.0' } },
    });
    const target = manifest({ orders: { version: '2.1.0' } });
    const plan = planRollout(current, target);
    assert.deepEqual(order(plan), ['update orders', 'remove web', 'remove legacy']);
    assert.deepEqual(plan.steps[2], { index: 3, service: 'legacy', action: 'remove', fromVersion: '1.0.0' });
    assert.equal(plan.ok, true);
  });

  it('reports removing a provider that a remaining consumer still needs', () => {
    const current = manifest({
      legacy: { version: '1.0.0' },
      web: { version: '1.0.0', dependsOn: { legacy: '^1.0.0' } },
    });
    const plan = planRollout(
      current,
      manifest({ web: { version: '1.0.0', dependsOn: { legacy: '^1.0.0' } } }),
    );
    assert.deepEqual(
      plan.breaks.map((b) => [b.providerVersion, b.message]),
      [[null, "step 1 (remove legacy 1.0.0) breaks web 1.0.0's range legacy ^1.0.0 (legacy is absent)"]],
    );
  });

  it('lets an optional provider go without a break', () => {
    const current = manifest({
      cache: { version: '1.0.0' },
      web: { version: '1.0.0', dependsOn: { cache: { range: '^1.0.0', optional: true } } },
    });
    const plan = planRollout(current, manifest({ web: current.services.web! }));
    assert.deepEqual(order(plan), ['remove cache']);
    assert.equal(plan.ok, true);
  });

  it('marks an instances-only change as scale', () => {
    const target = manifest({
      payments: { version: '1.4.0', instances: { min: 2, max: 5 } },
      orders: { version: '2.0.0', dependsOn: { payments: '^1.4.0' }, env: { A: 'b' } },
    });
    const plan = planRollout(v1, target);
    assert.deepEqual(plan.steps, [
      { index: 1, service: 'payments', action: 'scale', fromVersion: '1.4.0', toVersion: '1.4.0' },
      { index: 2, service: 'orders', action: 'update', fromVersion: '2.0.0', toVersion: '2.0.0' },
    ]);
  });

  it('does not blame a step for a range that was already broken', () => {
    const broken = manifest({
      payments: { version: '1.4.0' },
      orders: { version: '2.1.0', dependsOn: { payments: '^1.5.0' } },
    });
    const target = manifest({
      payments: { version: '1.4.1' },
      orders: { version: '2.1.0', dependsOn: { payments: '^1.5.0' } },
    });
    assert.equal(planRollout(broken, target).ok, true);
  });

  it('plans nothing when nothing changed', () => {
    const plan = planRollout(v1, v1);
    assert.deepEqual(plan.steps, []);
    assert.equal(plan.ok, true);
    assert.equal(plan.diff.unchanged, 2);
  });

  it('still plans every change when the target has a cycle', () => {
    const target = manifest({
      a: { version: '1.0.0', dependsOn: { b: '^1.0.0' } },
      b: { version: '1.0.0', dependsOn: { a: '^1.0.0' } },
    });
    const plan = planRollout(undefined, target);
    assert.deepEqual(order(plan), ['add a', 'add b']);
    assert.deepEqual(
      plan.breaks.map((b) => [b.step, b.consumer, b.provider]),
      [[1, 'a', 'b']],
    );
  });
});

describe('planRollout properties', () => {
  const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
  const versionArb = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }))
    .map(([major, minor]) => `${major}.${minor}.0`);
  const rangeArb = fc.oneof(
    versionArb.map((v) => `^${v}`),
    versionArb.map((v) => `~${v}`),
    versionArb.map((v) => `>=${v}`),
    fc.integer({ min: 1, max: 3 }).map((m) => `${m}.x`),
  );
  const serviceArb: fc.Arbitrary<ServiceInput> = fc.record({
    version: versionArb,
    instances: fc.integer({ min: 1, max: 2 }),
    dependsOn: fc.dictionary(
      fc.constantFrom(...NAMES),
      fc.oneof(rangeArb, fc.record({ range: rangeArb, optional: fc.boolean() })),
      { maxKeys: 3 },
    ),
  });
  const manifestArb = fc
    .dictionary(fc.constantFrom(...NAMES), serviceArb, { maxKeys: NAMES.length })
    .map((services) => manifest(services));

  it('records exactly the ranges each step newly breaks, and ends at the target', () => {
    fc.assert(
      fc.property(fc.option(manifestArb, { nil: undefined }), manifestArb, (current, target) => {
        const plan = planRollout(current, target);
        const state = new Map<string, ServiceSpec>(Object.entries(current?.services ?? {}));
        let broken = brokenRanges(state);
        for (const step of plan.steps) {
          const spec = target.services[step.service];
          if (step.action === 'remove') state.delete(step.service);
          else state.set(step.service, spec!);
          const after = brokenRanges(state);
          const newlyBroken = [...after].filter((pair) => !broken.has(pair)).sort();
          const recorded = plan.breaks
            .filter((b) => b.step === step.index)
            .map((b) => `${b.consumer}→${b.provider}`);
          assert.deepEqual(recorded.sort(), newlyBroken);
          broken = after;
        }
        assert.equal(plan.ok, plan.breaks.length === 0);
        assert.equal(new Set(plan.steps.map((s) => s.service)).size, plan.steps.length);
        assert.deepEqual(servicesJson(state), servicesJson(new Map(Object.entries(target.services))));
      }),
      { numRuns: 300 },
    );
  });

  it('never takes an unsafe step while a safe one is available', () => {
    fc.assert(
      fc.property(manifestArb, manifestArb, (current, target) => {
        const plan = planRollout(current, target);
        const state = new Map<string, ServiceSpec>(Object.entries(current.services));
        const remaining = new Set(plan.steps.map((s) => s.service));
        for (const step of plan.steps) {
          const before = brokenRanges(state);
          const breaksAny = (service: string): boolean => {
            const next = apply(state, target, service);
            return [...brokenRanges(next)].some((pair) => !before.has(pair));
          };
          if (breaksAny(step.service)) {
            assert.ok([...remaining].every(breaksAny), `step ${step.index} breaks a range needlessly`);
          }
          remaining.delete(step.service);
          const next = apply(state, target, step.service);
          state.clear();
          for (const [k, v] of next) state.set(k, v);
        }
      }),
      { numRuns: 200 },
    );
  });
});

function apply(
  state: ReadonlyMap<string, ServiceSpec>,
  target: Manifest,
  service: string,
): Map<string, ServiceSpec> {
  const next = new Map(state);
  const spec = target.services[service];
  if (spec) next.set(service, spec);
  else next.delete(service);
  return next;
}

function servicesJson(services: ReadonlyMap<string, ServiceSpec>): string {
  return canonicalJson(Object.fromEntries(services));
}
