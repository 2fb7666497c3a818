import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import semver from 'semver';
import { canonicalJson } from '../manifest/canonical.ts';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { planServiceRollback, type HistoryEntry, type ServiceRollbackPlan } from './rollback-plan.ts';
import type { ServiceMove } from './revision.ts';
import { brokenRanges, manifest, type ServiceInput } from './test-fixtures.ts';

/** Revisions listed oldest first (as one reads them), numbered from 1, returned newest first. */
function history(...revisions: Manifest[]): HistoryEntry[] {
  return revisions.map((m, i) => ({ revision: i + 1, manifest: m })).reverse();
}

function accepted(plan: ServiceRollbackPlan) {
  assert.ok(plan.ok, plan.ok ? '' : `refused: ${plan.reason}`);
  return plan;
}

function refused(plan: ServiceRollbackPlan) {
  assert.ok(!plan.ok, 'expected a refusal');
  return plan;
}

describe('planServiceRollback', () => {
  // The seed's example: A 1.2 only works with B 2.2, A 1.1 only with B 2.0.
  const seed = history(
    manifest({
      a: { version: '1.1.0', dependsOn: { b: '~2.0.0' } },
      b: { version: '2.0.0' },
      c: { version: '1.0.0' },
    }),
    manifest({
      a: { version: '1.2.0', dependsOn: { b: '~2.2.0' } },
      b: { version: '2.2.0' },
      c: { version: '1.1.0' },
    }),
  );

  it('rolls a consumer back with its provider, and says why', () => {
    const plan = accepted(planServiceRollback(seed, 'b'));
    assert.deepEqual(plan.moves, [
      {
        service: 'b',
        from: '2.2.0',
        to: '2.0.0',
        fromRevision: 1,
        reason: 'requested: roll back b 2.2.0 → 2.0.0',
      },
      {
        service: 'a',
        from: '1.2.0',
        to: '1.1.0',
        fromRevision: 1,
        reason: 'a 1.2.0 requires b ~2.2.0, which 2.0.0 does not satisfy; a 1.1.0 accepts b ~2.0.0',
      },
    ]);
    assert.equal(plan.manifest.services.a!.dependsOn.b!.range, '~2.0.0');
    assert.deepEqual(Object.keys(plan.manifest.services), ['a', 'b', 'c']);
  });

  it('rolls a provider back with its consumer, and never moves an unrelated service', () => {
    const plan = accepted(planServiceRollback(seed, 'a'));
    assert.deepEqual(
      plan.moves.map((m) => [m.service, m.from, m.to, m.reason]),
      [
        ['a', '1.2.0', '1.1.0', 'requested: roll back a 1.2.0 → 1.1.0'],
        ['b', '2.2.0', '2.0.0', 'a 1.1.0 requires b ~2.0.0, which 2.2.0 does not satisfy; b 2.0.0 does'],
      ],
    );
    assert.equal(plan.manifest.services.c!.version, '1.1.0');
  });

  it('moves nothing else when the earlier version is compatible', () => {
    const plan = accepted(planServiceRollback(seed, 'c'));
    assert.deepEqual(
      plan.moves.map((m) => m.service),
      ['c'],
    );
    assert.equal(canonicalJson(plan.manifest.services.a), canonicalJson(seed[0]!.manifest.services.a));
  });

  it('restores the whole earlier spec, not just the version', () => {
    const h = history(
      manifest({ a: { version: '1.0.0', env: { MODE: 'old' } } }),
      manifest({ a: { version: '1.1.0', env: { MODE: 'new' } } }),
    );
    const plan = accepted(planServiceRollback(h, 'a'));
    assert.deepEqual(plan.manifest.services.a, h[1]!.manifest.services.a);
  });

  it('prefers the newest compatible spec of a forced service', () => {
    const h = history(
      manifest({ a: { version: '1.0.0', dependsOn: { b: '^1.0.0' } }, b: { version: '1.0.0' } }),
      manifest({ a: { version: '1.1.0', dependsOn: { b: '^1.0.0' } }, b: { version: '1.0.0' } }),
      manifest({ a: { version: '2.0.0', dependsOn: { b: '^2.0.0' } }, b: { version: '2.0.0' } }),
    );
    const plan = accepted(planServiceRollback(h, 'b'));
    assert.deepEqual(
      plan.moves.map((m) => [m.service, m.to, m.fromRevision]),
      [
        ['b', '1.0.0', 2],
        ['a', '1.1.0', 2],
      ],
    );
  });

  it('follows a chain: the forced consumer needs an older provider of its own', () => {
    const h = history(
      manifest({
        ledger: { version: '3.0.0' },
        payments: { version: '1.4.0', dependsOn: { ledger: '^3.0.0' } },
        orders: { version: '2.0.0', dependsOn: { payments: '~1.4.0' } },
      }),
      manifest({
        ledger: { version: '4.0.0' },
        payments: { version: '1.5.0', dependsOn: { ledger: '^4.0.0' } },
        orders: { version: '2.1.0', dependsOn: { payments: '^1.5.0' } },
      }),
    );
    const plan = accepted(planServiceRollback(h, 'orders'));
    assert.deepEqual(
      plan.moves.map((m) => [m.service, m.reason]),
      [
        ['orders', 'requested: roll back orders 2.1.0 → 2.0.0'],
        [
          'payments',
          'orders 2.0.0 requires payments ~1.4.0, which 1.5.0 does not satisfy; payments 1.4.0 does',
        ],
        ['ledger', 'payments 1.4.0 requires ledger ^3.0.0, which 4.0.0 does not satisfy; ledger 3.0.0 does'],
      ],
    );
  });

  it('forces many consumers back at once without searching every combination of their specs', () => {
    const consumers = Array.from({ length: 30 }, (_, i) => `c-${String(i).padStart(2, '0')}`);
    const revision = (p: string, c: string, range: string) =>
      manifest({
        p: { version: p },
        ...Object.fromEntries(consumers.map((name) => [name, { version: c, dependsOn: { p: range } }])),
      });
    const h = history(
      revision('1.0.0', '1.0.0', '^1.0.0'),
      revision('1.0.0', '1.1.0', '^1.0.0'),
      revision('2.0.0', '2.0.0', '^2.0.0'),
    );
    // Each consumer has two acceptable earlier specs: 2^30 combinations without the bound.
    const plan = accepted(planServiceRollback(h, 'p', { maxNodes: 1_000 }));
    assert.equal(plan.moves.length, 31);
    assert.ok(plan.moves.slice(1).every((m) => m.to === '1.1.0' && m.fromRevision === 2));
  });

  it('rolls back to a named version', () => {
    const h = history(
      manifest({ a: { version: '1.0.0' } }),
      manifest({ a: { version: '1.1.0' } }),
      manifest({ a: { version: '1.2.0' } }),
    );
    const plan = accepted(planServiceRollback(h, 'a', { toVersion: '1.0.0' }));
    assert.deepEqual(plan.moves[0], {
      service: 'a',
      from: '1.2.0',
      to: '1.0.0',
      fromRevision: 1,
      reason: 'requested: roll back a 1.2.0 → 1.0.0',
    });
    assert.equal(accepted(planServiceRollback(h, 'a')).moves[0]!.to, '1.1.0');

    const missing = refused(planServiceRollback(h, 'a', { toVersion: '0.9.0' }));
    assert.equal(missing.code, 'no-earlier-version');
    assert.equal(missing.reason, 'a never ran 0.9.0 in the recorded history');
    assert.equal(missing.hint, 'earlier versions of a: 1.1.0 (revision 2), 1.0.0 (revision 1)');

    assert.equal(refused(planServiceRollback(h, 'a', { toVersion: '1.2.0' })).code, 'no-earlier-version');
  });

  it('refuses when the service never ran another version', () => {
    const h = history(
      manifest({ a: { version: '1.0.0' }, b: { version: '1.0.0' } }),
      manifest({ a: { version: '1.0.0', env: { X: '1' } }, b: { version: '1.1.0' } }),
    );
    const plan = refused(planServiceRollback(h, 'a'));
    assert.equal(plan.code, 'no-earlier-version');
    assert.match(plan.reason, /a has run no version older than 1\.0\.0/);
  });

  it('never moves a service forward: rolling back twice goes further back, not to the version just left', () => {
    // Revisions 1 to 4; the fourth is the first rollback, 1.6.0 → 1.5.0.
    const h = history(
      manifest({ pay: { version: '1.4.0' } }),
      manifest({ pay: { version: '1.5.0' } }),
      manifest({ pay: { version: '1.6.0' } }),
      manifest({ pay: { version: '1.5.0' } }),
    );
    const plan = accepted(planServiceRollback(h, 'pay'));
    assert.deepEqual(
      plan.moves.map((m) => [m.from, m.to, m.fromRevision]),
      [['1.5.0', '1.4.0', 1]],
    );
    const none = refused(planServiceRollback(h.slice(0, 3), 'pay'));
    assert.equal(none.code, 'no-earlier-version');
    assert.match(none.reason, /no version older than 1\.5\.0/);
  });

  it('refuses a service that is not in the current revision', () => {
    const h = history(
      manifest({ legacy: { version: '1.0.0' }, orders: { version: '1.0.0' } }),
      manifest({ orders: { version: '1.1.0' } }),
    );
    const gone = refused(planServiceRollback(h, 'legacy'));
    assert.equal(gone.code, 'unknown-service');
    assert.equal(gone.reason, 'legacy is not in the current revision (2)');
    const typo = refused(planServiceRollback(h, 'ordres'));
    assert.equal(typo.hint, 'did you mean orders?');
    assert.equal(refused(planServiceRollback([], 'orders')).code, 'unknown-service');
  });

  it('refuses when no combination of earlier versions is compatible, pointing at a whole rollback', () => {
    const h = history(
      manifest({ b: { version: '1.0.0' } }),
      manifest({ a: { version: '1.0.0', dependsOn: { b: '^2.0.0' } }, b: { version: '2.0.0' } }),
    );
    const plan = refused(planServiceRollback(h, 'b'));
    assert.equal(plan.code, 'no-compatible-set');
    assert.equal(
      plan.reason,
      "rolling back b 2.0.0 → 1.0.0 breaks a 1.0.0's range b ^2.0.0 (b is 1.0.0), and no combination of " +
        'earlier versions of the other services makes every range hold',
    );
    assert.equal(plan.hint, 'roll back the whole architecture with `baton rollback --to 1`');
  });

  it('never adds a service that is absent from the current revision', () => {
    const h = history(
      manifest({ a: { version: '1.0.0', dependsOn: { old: '^1.0.0' } }, old: { version: '1.0.0' } }),
      manifest({ a: { version: '2.0.0' } }),
    );
    assert.equal(refused(planServiceRollback(h, 'a')).code, 'no-compatible-set');
  });

  it('says so when the current revision already breaks a range', () => {
    const h = history(
      manifest({ a: { version: '1.0.0' }, b: { version: '1.0.0', dependsOn: { a: '^3.0.0' } } }),
      manifest({ a: { version: '1.1.0' }, b: { version: '1.0.0', dependsOn: { a: '^3.0.0' } } }),
    );
    const plan = refused(planServiceRollback(h, 'a'));
    assert.match(
      plan.reason,
      /^the current revision \(2\) already breaks b 1\.0\.0's range a \^3\.0\.0 \(a is 1\.1\.0\)/,
    );
  });

  it('gives up with a clear reason when the search budget runs out', () => {
    const plan = refused(planServiceRollback(seed, 'b', { maxNodes: 1 }));
    assert.equal(plan.code, 'no-compatible-set');
    assert.match(plan.reason, /^gave up after examining 1 combinations/);
    assert.equal(plan.hint, 'roll back the whole architecture with `baton rollback --to 1`');
  });
});

// Random histories in which every revision is itself consistent.
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const versionArb = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }))
  .map(([m, n]) => `${m}.${n}.0`);

/** A range that `version` satisfies, of a random strictness. */
const rangeFor = (version: string, kind: number): string => {
  const [major, minor] = version.split('.');
  return [
    `^${version}`,
    `~${version}`,
    `=${version}`,
    `>=${major}.0.0`,
    `${major}.x`,
    `>=1.0.0 <=${version}`,
    `${major}.${minor}.x`,
  ][kind]!;
};

interface RevisionShape {
  readonly present: readonly boolean[];
  readonly versions: readonly string[];
  /** deps[i][j]: does service i depend on j, and how strictly. */
  readonly deps: readonly (readonly (number | null)[])[];
  readonly optional: readonly (readonly boolean[])[];
}

const revisionArb = (n: number): fc.Arbitrary<RevisionShape> =>
  fc.record({
    present: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    versions: fc.array(versionArb, { minLength: n, maxLength: n }),
    deps: fc.array(
      fc.array(fc.option(fc.integer({ min: 0, max: 6 }), { freq: 2 }), { minLength: n, maxLength: n }),
      {
        minLength: n,
        maxLength: n,
      },
    ),
    optional: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), {
      minLength: n,
      maxLength: n,
    }),
  });

function buildRevision(shape: RevisionShape, n: number): Manifest {
  const services: Record<string, ServiceInput> = {};
  for (let i = 0; i < n; i++) {
    if (!shape.present[i] && i > 0) continue; // the first service is always there, so there is something to roll back
    const dependsOn: Record<string, unknown> = {};
    for (let j = 0; j < n; j++) {
      const kind = shape.deps[i]![j];
      if (i === j || kind === null || kind === undefined) continue;
      const present = j === 0 || shape.present[j];
      const optional = shape.optional[i]![j]!;
      if (!present && !optional) continue;
      dependsOn[NAMES[j]!] = { range: rangeFor(shape.versions[j]!, kind), optional };
    }
    services[NAMES[i]!] = { version: shape.versions[i]!, dependsOn };
  }
  return manifest(services);
}

const historyArb = (maxServices: number, maxRevisions: number, minRevisions = 2) =>
  fc
    .integer({ min: 3, max: maxServices })
    .chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.array(revisionArb(n), { minLength: minRevisions, maxLength: maxRevisions }),
        fc.integer({ min: 0, max: n - 1 }),
      ),
    )
    .map(([n, shapes, pick]) => {
      const revisions = shapes.map((s) => buildRevision(s, n));
      const current = revisions.at(-1)!;
      const names = Object.keys(current.services);
      return { h: history(...revisions), service: names[pick % names.length]! };
    });

const specsOf = (m: Manifest) => new Map<string, ServiceSpec>(Object.entries(m.services));

/** The fewest other services to move, over every combination of earlier specs; undefined if none works. */
function bruteForceMinimum(
  h: readonly HistoryEntry[],
  service: string,
  target: ServiceSpec,
): number | undefined {
  const current = h[0]!.manifest;
  const others = Object.keys(current.services).filter((s) => s !== service);
  const options = others.map((name) => {
    const seen = new Set([canonicalJson(current.services[name])]);
    const list: (ServiceSpec | undefined)[] = [undefined];
    for (const entry of h.slice(1)) {
      const spec = entry.manifest.services[name];
      if (spec && !seen.has(canonicalJson(spec))) {
        seen.add(canonicalJson(spec));
        list.push(spec);
      }
    }
    return list;
  });
  let best: number | undefined;
  const choose = (i: number, state: Map<string, ServiceSpec>, moved: number): void => {
    if (best !== undefined && moved >= best) return;
    if (i === others.length) {
      if (brokenRanges(state).size === 0) best = moved;
      return;
    }
    for (const option of options[i]!) {
      const next = new Map(state);
      if (option) next.set(others[i]!, option);
      choose(i + 1, next, moved + (option ? 1 : 0));
    }
  };
  choose(0, new Map([...specsOf(current), [service, target]]), 0);
  return best;
}

describe('planServiceRollback properties', () => {
  it('either refuses or returns an architecture where every range holds and the service is at an earlier version', () => {
    fc.assert(
      fc.property(historyArb(6, 5), ({ h, service }) => {
        const plan = planServiceRollback(h, service);
        if (!plan.ok) {
          assert.ok(['no-earlier-version', 'no-compatible-set'].includes(plan.code));
          return;
        }
        const current = h[0]!.manifest;
        assert.deepEqual(brokenRanges(specsOf(plan.manifest)), new Set());
        assert.deepEqual(Object.keys(plan.manifest.services), Object.keys(current.services));
        assert.equal(plan.moves[0]!.service, service);
        assert.ok(
          semver.lt(plan.manifest.services[service]!.version, current.services[service]!.version),
          'back means an older version',
        );
        const moved = new Set(plan.moves.map((m) => m.service));
        assert.equal(moved.size, plan.moves.length);
        for (const [name, spec] of Object.entries(plan.manifest.services)) {
          if (!moved.has(name)) {
            assert.equal(spec, current.services[name]);
            continue;
          }
          const move: ServiceMove = plan.moves.find((m) => m.service === name)!;
          const source: HistoryEntry = h.find((e) => e.revision === move.fromRevision)!;
          assert.equal(canonicalJson(source.manifest.services[name]), canonicalJson(spec));
          assert.equal(move.from, current.services[name]!.version);
          assert.equal(move.to, spec.version);
          assert.ok(move.reason.length > 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('moves the fewest services possible, and refuses only when no combination exists', () => {
    fc.assert(
      fc.property(historyArb(4, 3), ({ h, service }) => {
        const plan = planServiceRollback(h, service);
        const current = h[0]!.manifest.services[service]!;
        const target = h.slice(1).find((e) => {
          const spec = e.manifest.services[service];
          return spec && semver.lt(spec.version, current.version);
        });
        if (!target) {
          assert.ok(!plan.ok && plan.code === 'no-earlier-version');
          return;
        }
        const minimum = bruteForceMinimum(h, service, target.manifest.services[service]!);
        if (minimum === undefined) {
          assert.ok(!plan.ok && plan.code === 'no-compatible-set');
        } else {
          assert.ok(plan.ok, plan.ok ? '' : plan.reason);
          assert.equal(plan.moves.length - 1, minimum);
        }
      }),
      { numRuns: 500 },
    );
  });
});
