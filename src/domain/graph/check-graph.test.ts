// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Problem } from '../problems.ts';
import { checkGraph, MAX_DEPENDENCY_DEPTH, MAX_FAN_OUT } from './check-graph.ts';
import { buildGraph } from './dependency-graph.ts';
import { chainOf, manifestOf } from './test-manifest.ts';
import type { ServiceSketch } from './test-manifest.ts';

function codes(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.severity} ${p.code}`);
}

function only(problems: readonly Problem[], code: string): Problem {
  const matching = problems.filter((p) => p.code === code);
  assert.equal(matching.length, 1, `exactly one ${code} in ${JSON.stringify(codes(problems))}`);
  return matching[0]!;
}

describe('checkGraph', () => {
  it('finds nothing wrong with a sound architecture', () => {
    const manifest = manifestOf({
      gateway: {
        tier: 'critical',
        dependsOn: { orders: '^2.0.0', search: { range: '^1.0.0', optional: true } },
      },
      orders: { version: '2.3.1', tier: 'critical', dependsOn: { payments: '>=1.2 <2' } },
      payments: { version: '1.4.0', tier: 'critical' },
      search: { tier: 'low' },
    });
    assert.deepEqual(checkGraph(manifest), []);
  });

  it('uses the graph it is given, or builds one', () => {
    const manifest = manifestOf({ a: { dependsOn: { b: '^1.0.0' } }, b: { dependsOn: { a: '^1.0.0' } } });
    assert.deepEqual(checkGraph(manifest, buildGraph(manifest)), checkGraph(manifest));
  });

  describe('unknown-dependency', () => {
    it('is an error at the dependency, suggesting a close name', () => {
      const manifest = manifestOf({ orders: { dependsOn: { paymnets: '^1.0.0' } }, payments: {} });
      assert.deepEqual(checkGraph(manifest), [
        {
          severity: 'error',
          code: 'unknown-dependency',
          message: '`orders` depends on `paymnets`, which is not a service in this manifest',
          path: ['services', 'orders', 'dependsOn', 'paymnets'],
          hint: 'did you mean `payments`?',
        },
      ]);
    });

    it('suggests declaring the service when nothing is close', () => {
      const manifest = manifestOf({ orders: { dependsOn: { warehouse: '^1.0.0' } }, payments: {} });
      assert.equal(
        only(checkGraph(manifest), 'unknown-dependency').hint,
        'declare `warehouse` under services or remove the dependency',
      );
    });

    it('never suggests the consumer itself', () => {
      const manifest = manifestOf({ orders: { dependsOn: { order: '^1.0.0' } } });
      assert.doesNotMatch(only(checkGraph(manifest), 'unknown-dependency').hint!, /did you mean/);
    });

    it('does not take prototype properties for services', () => {
      const manifest = manifestOf({ app: { dependsOn: { constructor: '^1.0.0' } } });
      assert.deepEqual(codes(checkGraph(manifest)), ['error unknown-dependency']);
    });
  });

  describe('optional-dependency-absent', () => {
    it('is only a warning when the missing dependency is optional', () => {
      const manifest = manifestOf({
        orders: { dependsOn: { recommendations: { range: '^1.0.0', optional: true } } },
        recommendation: {},
      });
      const problem = only(checkGraph(manifest), 'optional-dependency-absent');
      assert.equal(problem.severity, 'warning');
      assert.deepEqual(problem.path, ['services', 'orders', 'dependsOn', 'recommendations']);
      assert.equal(problem.hint, 'did you mean `recommendation`?');
      assert.equal(codes(checkGraph(manifest)).length, 1);
    });
  });

  describe('self-dependency', () => {
    it('is an error, reported once (not also as a cycle)', () => {
      const manifest = manifestOf({
        orders: { tier: 'low', version: '1.0.0', dependsOn: { orders: '^2.0.0' } },
      });
      const problems = checkGraph(manifest);
      assert.deepEqual(codes(problems), ['error self-dependency']);
      assert.deepEqual(problems[0]!.path, ['services', 'orders', 'dependsOn', 'orders']);
      assert.equal(problems[0]!.message, '`orders` depends on itself');
    });
  });

  describe('dependency-cycle', () => {
    const manifest = manifestOf({
      orders: { dependsOn: { payments: '^1.0.0' } },
      payments: { dependsOn: { ledger: '^1.0.0' } },
      ledger: { dependsOn: { orders: '^1.0.0' } },
      web: { dependsOn: { orders: '^1.0.0' } },
      a: { dependsOn: { b: '^1.0.0' } },
      b: { dependsOn: { a: '^1.0.0' } },
    });

    it('reports one error per cycle, naming it whole, at its first edge', () => {
      const cycles = checkGraph(manifest).filter((p) => p.code === 'dependency-cycle');
      assert.deepEqual(
        cycles.map((p) => [p.severity, p.message, p.path]),
        [
          ['error', 'dependency cycle: a → b → a', ['services', 'a', 'dependsOn', 'b']],
          [
            'error',
            'dependency cycle: ledger → orders → payments → ledger',
            ['services', 'ledger', 'dependsOn', 'orders'],
          ],
        ],
      );
    });

    it("gives the seed's advice: invert the dependency through events or a third service", () => {
      const hint = checkGraph(manifest).find((p) => p.code === 'dependency-cycle')!.hint!;
      assert.match(hint, /publish/);
      assert.match(hint, /broker/);
      assert.match(hint, /third service/);
    });
  });

  describe('range-unsatisfied', () => {
    it('names both sides and suggests a fix', () => {
      const manifest = manifestOf({
        orders: { dependsOn: { payments: '^2.0.0' } },
        payments: { version: '1.4.0' },
      });
      const problem = only(checkGraph(manifest), 'range-unsatisfied');
      assert.equal(problem.severity, 'error');
      assert.equal(problem.message, 'orders requires payments ^2.0.0, but this manifest runs payments 1.4.0');
      assert.deepEqual(problem.path, ['services', 'orders', 'dependsOn', 'payments']);
      assert.match(problem.hint!, /\^1\.4\.0/);
    });

    it('applies to optional dependencies that are present', () => {
      const manifest = manifestOf({
        orders: { dependsOn: { search: { range: '~1.2.0', optional: true } } },
        search: { version: '1.3.0' },
      });
      assert.deepEqual(codes(checkGraph(manifest)), ['error range-unsatisfied']);
    });

    it('does not let a prerelease satisfy a plain range', () => {
      const manifest = manifestOf({
        orders: { dependsOn: { payments: '>=1.0.0' } },
        payments: { version: '2.0.0-rc.1' },
      });
      assert.deepEqual(codes(checkGraph(manifest)), ['error range-unsatisfied']);
    });
  });

  describe('tier-inversion', () => {
    it('warns when a service depends on a less critical one', () => {
      const manifest = manifestOf({
        orders: { tier: 'critical', dependsOn: { notifications: '^1.0.0' } },
        notifications: { tier: 'low' },
      });
      assert.deepEqual(checkGraph(manifest), [
        {
          severity: 'warning',
          code: 'tier-inversion',
          message: 'critical service `orders` depends on low-tier `notifications`',
          path: ['services', 'orders', 'dependsOn', 'notifications'],
          hint: 'raise the tier of notifications, or mark the dependency optional and degrade without it',
        },
      ]);
    });

    it('accepts optional dependencies, equal tiers and more critical providers', () => {
      const manifest = manifestOf({
        orders: {
          tier: 'high',
          dependsOn: {
            notifications: { range: '^1.0.0', optional: true },
            payments: '^1.0.0',
            stock: '^1.0.0',
          },
        },
        notifications: { tier: 'low' },
        payments: { tier: 'critical' },
        stock: { tier: 'high' },
      });
      assert.deepEqual(checkGraph(manifest), []);
    });
  });

  describe('deep-dependency-chain', () => {
    it('is silent at the limit', () => {
      assert.deepEqual(checkGraph(chainOf(MAX_DEPENDENCY_DEPTH + 1)), []);
    });

    it('warns once, at the top of a chain that exceeds the limit, showing the chain', () => {
      const problems = checkGraph(chainOf(MAX_DEPENDENCY_DEPTH + 2));
      assert.deepEqual(problems, [
        {
          severity: 'warning',
          code: 'deep-dependency-chain',
          message: '`s6` sits on a dependency chain 6 deep (more than 5): s6 → s5 → s4 → s3 → s2 → s1 → s0',
          path: ['services', 's6', 'dependsOn'],
          hint: problems[0]!.hint,
        },
      ]);
      assert.ok(problems[0]!.hint);
    });

    it('abbreviates very long chains', () => {
      const message = only(checkGraph(chainOf(40)), 'deep-dependency-chain').message;
      assert.match(message, /39 deep/);
      assert.match(message, /: s39 → s38 → s37 → s36 → … → s3 → s2 → s1 → s0$/);
    });

    it('warns at every top of a deep chain', () => {
      const services: Record<string, ServiceSketch> = {};
      for (let i = 0; i < 8; i++)
        services[`s${i}`] = i === 0 ? {} : { dependsOn: { [`s${i - 1}`]: '^1.0.0' } };
      services['x'] = { dependsOn: { s6: '^1.0.0' } };
      const problems = checkGraph(manifestOf(services));
      assert.deepEqual(
        problems.map((p) => p.path),
        [
          ['services', 's7', 'dependsOn'],
          ['services', 'x', 'dependsOn'],
        ],
      );
    });
  });

  describe('high-fan-out', () => {
    function fanOut(count: number) {
      const services: Record<string, ServiceSketch> = {};
      const dependsOn: Record<string, string> = {};
      for (let i = 0; i < count; i++) {
        services[`p${i}`] = {};
        dependsOn[`p${i}`] = '^1.0.0';
      }
      services['hub'] = { dependsOn };
      return manifestOf(services);
    }

    it('is silent at the limit', () => {
      assert.deepEqual(checkGraph(fanOut(MAX_FAN_OUT)), []);
    });

    it('warns above it', () => {
      const problem = only(checkGraph(fanOut(MAX_FAN_OUT + 1)), 'high-fan-out');
      assert.equal(problem.severity, 'warning');
      assert.equal(problem.message, '`hub` depends on 11 services (more than 10)');
      assert.deepEqual(problem.path, ['services', 'hub', 'dependsOn']);
    });
  });

  it('reports several problems of one manifest together, dependency problems first', () => {
    const manifest = manifestOf({
      orders: { tier: 'critical', dependsOn: { payments: '^1.0.0', ghost: '^1.0.0', mail: '^1.0.0' } },
      payments: { version: '3.0.0', dependsOn: { orders: '^1.0.0' } },
      mail: { tier: 'low' },
    });
    assert.deepEqual(codes(checkGraph(manifest)), [
      'error unknown-dependency',
      'warning tier-inversion',
      'error range-unsatisfied',
      'warning tier-inversion',
      'error dependency-cycle',
    ]);
  });
});
