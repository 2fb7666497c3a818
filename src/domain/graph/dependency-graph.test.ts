// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Manifest } from '../manifest/model.ts';
import { TIER_RANK, TIERS } from '../manifest/schema.ts';
import { blastRadius, buildGraph, findCycles, graphMetrics, topologicalOrder } from './dependency-graph.ts';
import type { BlastRadiusEntry, DependencyGraph } from './dependency-graph.ts';
import { chainOf, manifestOf } from './test-manifest.ts';
import type { ServiceSketch } from './test-manifest.ts';

const shop = manifestOf({
  gateway: { tier: 'critical', dependsOn: { orders: '^2.0.0', search: { range: '^1.0.0', optional: true } } },
  orders: { version: '2.1.0', tier: 'critical', dependsOn: { payments: '^1.0.0', ghost: '^1.0.0' } },
  payments: { version: '1.4.0', tier: 'critical', dependsOn: { ledger: '^1.0.0' } },
  ledger: { tier: 'high' },
  search: { tier: 'low' },
});

describe('buildGraph', () => {
  it('lists services sorted and keeps only edges to declared services', () => {
    const graph = buildGraph(shop);
    assert.deepEqual(graph.services, ['gateway', 'ledger', 'orders', 'payments', 'search']);
    assert.deepEqual(
      graph.edges.map((e) => `${e.from}->${e.to}`),
      ['gateway->orders', 'gateway->search', 'orders->payments', 'payments->ledger'],
    );
    assert.deepEqual(graph.providersOf('gateway')[1], {
      from: 'gateway',
      to: 'search',
      range: '^1.0.0',
      optional: true,
    });
  });

  it('answers providers and consumers, and nothing for an unknown service', () => {
    const graph = buildGraph(shop);
    assert.deepEqual(
      graph.providersOf('orders').map((e) => e.to),
      ['payments'],
    );
    assert.deepEqual(
      graph.consumersOf('orders').map((e) => e.from),
      ['gateway'],
    );
    assert.deepEqual(graph.consumersOf('gateway'), []);
    assert.deepEqual(graph.providersOf('ghost'), []);
    assert.deepEqual(graph.consumersOf('ghost'), []);
  });

  it('does not find services on the object prototype', () => {
    const graph = buildGraph(manifestOf({ app: { dependsOn: { constructor: '^1.0.0' } } }));
    assert.deepEqual(graph.edges, []);
    assert.deepEqual(graph.providersOf('toString'), []);
  });
});

describe('findCycles', () => {
  it('returns one cycle per component, rotated to its smallest name', () => {
    const graph = buildGraph(
      manifestOf({
        orders: { dependsOn: { payments: '^1.0.0' } },
        payments: { dependsOn: { ledger: '^1.0.0' } },
        ledger: { dependsOn: { orders: '^1.0.0' } },
        audit: { dependsOn: { audit: '^1.0.0' } },
        web: { dependsOn: { orders: '^1.0.0' } },
      }),
    );
    assert.deepEqual(findCycles(graph), [
      ['audit', 'audit'],
      ['ledger', 'orders', 'payments', 'ledger'],
    ]);
  });

  it('picks the shortest cycle through the smallest name', () => {
    const graph = buildGraph(
      manifestOf({
        a: { dependsOn: { b: '^1.0.0', c: '^1.0.0' } },
        b: { dependsOn: { d: '^1.0.0' } },
        d: { dependsOn: { a: '^1.0.0' } },
        c: { dependsOn: { a: '^1.0.0' } },
      }),
    );
    assert.deepEqual(findCycles(graph), [['a', 'c', 'a']]);
  });

  it('is empty for a DAG', () => {
    assert.deepEqual(findCycles(buildGraph(shop)), []);
  });
});

describe('topologicalOrder', () => {
  it('puts providers before consumers and breaks ties by name', () => {
    assert.deepEqual(topologicalOrder(buildGraph(shop)), {
      ok: true,
      order: ['ledger', 'payments', 'orders', 'search', 'gateway'],
    });
  });

  it('refuses a cyclic graph and says why', () => {
    const graph = buildGraph(
      manifestOf({ a: { dependsOn: { b: '^1.0.0' } }, b: { dependsOn: { a: '^1.0.0' } }, c: {} }),
    );
    assert.deepEqual(topologicalOrder(graph), { ok: false, cycles: [['a', 'b', 'a']] });
  });

  it('refuses a self-dependency', () => {
    const graph = buildGraph(manifestOf({ a: { dependsOn: { a: '^1.0.0' } } }));
    assert.deepEqual(topologicalOrder(graph), { ok: false, cycles: [['a', 'a']] });
  });
});

describe('blastRadius', () => {
  it('lists transitive consumers nearest first, then most critical, then by name', () => {
    const manifest = manifestOf({
      db: { tier: 'high' },
      reports: { tier: 'low', dependsOn: { db: '^1.0.0' } },
      ledger: { tier: 'critical', dependsOn: { db: '^1.0.0' } },
      billing: { tier: 'medium', dependsOn: { db: '^1.0.0' } },
      payments: { tier: 'critical', dependsOn: { ledger: '^1.0.0', billing: '^1.0.0' } },
      admin: { tier: 'low', dependsOn: { reports: { range: '^1.0.0', optional: true } } },
      unrelated: { tier: 'critical' },
    });
    assert.deepEqual(blastRadius(manifest, buildGraph(manifest), 'db'), [
      { service: 'ledger', tier: 'critical', impact: 'down', distance: 1, via: 'db' },
      { service: 'billing', tier: 'medium', impact: 'down', distance: 1, via: 'db' },
      { service: 'reports', tier: 'low', impact: 'down', distance: 1, via: 'db' },
      { service: 'payments', tier: 'critical', impact: 'down', distance: 2, via: 'billing' },
      { service: 'admin', tier: 'low', impact: 'degraded', distance: 2, via: 'reports' },
    ]);
  });

  it('takes down only hard consumers: an optional one is degraded, and its consumers are spared', () => {
    const manifest = manifestOf({
      notifications: { tier: 'low' },
      orders: { tier: 'critical', dependsOn: { notifications: { range: '^1.0.0', optional: true } } },
      web: { tier: 'critical', dependsOn: { orders: '^1.0.0' } },
      mailer: { tier: 'medium', dependsOn: { notifications: '^1.0.0' } },
    });
    assert.deepEqual(blastRadius(manifest, buildGraph(manifest), 'notifications'), [
      { service: 'mailer', tier: 'medium', impact: 'down', distance: 1, via: 'notifications' },
      { service: 'orders', tier: 'critical', impact: 'degraded', distance: 1, via: 'notifications' },
    ]);
  });

  it('is empty for a service nothing depends on, or one that does not exist', () => {
    const graph = buildGraph(shop);
    assert.deepEqual(blastRadius(shop, graph, 'gateway'), []);
    assert.deepEqual(blastRadius(shop, graph, 'ghost'), []);
  });

  it('never lists the service itself, even in a cycle', () => {
    const manifest = manifestOf({ a: { dependsOn: { b: '^1.0.0' } }, b: { dependsOn: { a: '^1.0.0' } } });
    assert.deepEqual(blastRadius(manifest, buildGraph(manifest), 'a'), [
      { service: 'b', tier: 'medium', impact: 'down', distance: 1, via: 'a' },
    ]);
  });
});

describe('graphMetrics', () => {
  it('counts fan-in, fan-out and the longest provider chain', () => {
    const metrics = graphMetrics(buildGraph(shop));
    assert.deepEqual(metrics, {
      gateway: { fanIn: 0, fanOut: 2, depth: 3 },
      ledger: { fanIn: 1, fanOut: 0, depth: 0 },
      orders: { fanIn: 1, fanOut: 1, depth: 2 },
      payments: { fanIn: 1, fanOut: 1, depth: 1 },
      search: { fanIn: 1, fanOut: 0, depth: 0 },
    });
  });

  it('gives the members of a cycle one depth and terminates', () => {
    const metrics = graphMetrics(
      buildGraph(
        manifestOf({
          top: { dependsOn: { a: '^1.0.0' } },
          a: { dependsOn: { b: '^1.0.0' } },
          b: { dependsOn: { a: '^1.0.0', leaf: '^1.0.0' } },
          leaf: {},
        }),
      ),
    );
    assert.equal(metrics.leaf!.depth, 0);
    assert.equal(metrics.a!.depth, 1);
    assert.equal(metrics.b!.depth, 1);
    assert.equal(metrics.top!.depth, 2);
  });
});

describe('long chains (no recursion)', () => {
  const length = 10_000;
  const manifest = chainOf(length);
  const graph = buildGraph(manifest);

  it('orders, measures and finds the blast radius of a 10,000-service chain', () => {
    const order = topologicalOrder(graph);
    assert.ok(order.ok);
    assert.equal(order.order[0], 's0');
    assert.equal(order.order[length - 1], `s${length - 1}`);
    assert.equal(graphMetrics(graph)[`s${length - 1}`]!.depth, length - 1);
    const radius = blastRadius(manifest, graph, 's0');
    assert.equal(radius.length, length - 1);
    assert.deepEqual(radius[length - 2], {
      service: `s${length - 1}`,
      tier: 'medium',
      impact: 'down',
      distance: length - 1,
      via: `s${length - 2}`,
    });
  });

  it('finds a 10,000-service ring as one cycle', () => {
    const services: Record<string, ServiceSketch> = {};
    for (let i = 0; i < length; i++)
      services[`s${i}`] = { dependsOn: { [`s${(i + 1) % length}`]: '^1.0.0' } };
    const cycles = findCycles(buildGraph(manifestOf(services)));
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.length, length + 1);
    assert.equal(cycles[0]![0], 's0');
    assert.equal(cycles[0]![1], 's1');
  });
});

// ---------------------------------------------------------------------------------------
// Properties, checked against brute force on small random graphs.

interface RandomGraph {
  readonly manifest: Manifest;
  readonly graph: DependencyGraph;
  readonly injected: readonly string[];
}

/** Names are a shuffled permutation so that index order and name order disagree. */
const arbNames = fc.integer({ min: 1, max: 20 }).chain((n) =>
  fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => `svc-${i}`),
    { minLength: n, maxLength: n },
  ),
);

function arbGraph(shape: 'dag' | 'cyclic' | 'any'): fc.Arbitrary<RandomGraph> {
  return arbNames.chain((names) => {
    const n = names.length;
    return fc
      .record({
        pairs: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.boolean()), { maxLength: n * 3 }),
        cycle: fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: n }),
        tiers: fc.array(fc.constantFrom(...TIERS), { minLength: n, maxLength: n }),
      })
      .map(({ pairs, cycle, tiers }) => {
        const dependsOn = names.map((): Record<string, { range: string; optional: boolean }> => ({}));
        const add = (from: number, to: number, optional: boolean): void => {
          dependsOn[from]![names[to]!] = { range: '^1.0.0', optional };
        };
        for (const [a, b, optional] of pairs) {
          if (shape === 'any') add(a, b, optional);
          else if (a !== b) add(Math.max(a, b), Math.min(a, b), optional);
        }
        if (shape === 'cyclic') cycle.forEach((node, i) => add(node, cycle[(i + 1) % cycle.length]!, false));
        const services: Record<string, ServiceSketch> = {};
        names.forEach((name, i) => (services[name] = { tier: tiers[i]!, dependsOn: dependsOn[i]! }));
        const manifest = manifestOf(services);
        return {
          manifest,
          graph: buildGraph(manifest),
          injected: shape === 'cyclic' ? cycle.map((i) => names[i]!) : [],
        };
      });
  });
}

function hasEdge(graph: DependencyGraph, from: string, to: string): boolean {
  return graph.providersOf(from).some((edge) => edge.to === to);
}

/** Everything `from` reaches through one or more edges. */
function reachable(graph: DependencyGraph, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = graph.providersOf(from).map((e) => e.to);
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    for (const edge of graph.providersOf(next)) todo.push(edge.to);
  }
  return seen;
}

describe('properties', () => {
  it('a DAG has a topological order with every provider before its consumers, and no cycle', () => {
    fc.assert(
      fc.property(arbGraph('dag'), ({ graph }) => {
        const result = topologicalOrder(graph);
        assert.ok(result.ok);
        assert.deepEqual([...result.order].sort(), graph.services);
        const position = new Map(result.order.map((name, i) => [name, i]));
        for (const edge of graph.edges) assert.ok(position.get(edge.to)! < position.get(edge.from)!);
        assert.deepEqual(findCycles(graph), []);
      }),
    );
  });

  it('the order always takes the smallest-named ready service', () => {
    fc.assert(
      fc.property(arbGraph('dag'), ({ graph }) => {
        const result = topologicalOrder(graph);
        assert.ok(result.ok);
        const placed = new Set<string>();
        for (const service of result.order) {
          const ready = graph.services.filter(
            (s) => !placed.has(s) && graph.providersOf(s).every((e) => placed.has(e.to)),
          );
          assert.equal(service, ready[0]);
          placed.add(service);
        }
      }),
    );
  });

  it('an injected cycle is refused, and every reported cycle is real', () => {
    fc.assert(
      fc.property(arbGraph('cyclic'), ({ graph, injected }) => {
        const result = topologicalOrder(graph);
        assert.ok(!result.ok);
        assert.deepEqual(result.cycles, findCycles(graph));
        for (const cycle of result.cycles) {
          assert.ok(cycle.length >= 2);
          assert.equal(cycle[0], cycle[cycle.length - 1]);
          for (let i = 0; i + 1 < cycle.length; i++) assert.ok(hasEdge(graph, cycle[i]!, cycle[i + 1]!));
          const members = cycle.slice(0, -1);
          assert.equal(new Set(members).size, members.length);
        }
        // The injected cycle's component is among those reported.
        assert.ok(result.cycles.some((cycle) => injected.some((name) => cycle.includes(name))));
      }),
    );
  });

  it('findCycles reports each strongly connected component once, at its smallest name', () => {
    fc.assert(
      fc.property(arbGraph('any'), ({ graph }) => {
        const reach = new Map(graph.services.map((s) => [s, reachable(graph, s)]));
        const componentOf = (s: string): string[] =>
          graph.services.filter((t) => t === s || (reach.get(s)!.has(t) && reach.get(t)!.has(s)));
        const cyclicComponents = new Set(
          graph.services.filter((s) => reach.get(s)!.has(s)).map((s) => componentOf(s)[0]!),
        );
        const cycles = findCycles(graph);
        assert.deepEqual(
          cycles.map((c) => c[0]),
          [...cyclicComponents].sort(),
        );
        for (const cycle of cycles) {
          const component = componentOf(cycle[0]!);
          for (const name of cycle) assert.ok(component.includes(name));
          for (let i = 0; i + 1 < cycle.length; i++) assert.ok(hasEdge(graph, cycle[i]!, cycle[i + 1]!));
        }
      }),
    );
  });

  it('blastRadius: down is reverse reachability over hard edges, degraded the optional consumers of what is down', () => {
    fc.assert(
      fc.property(
        arbGraph('any').chain((g) =>
          fc.record({ g: fc.constant(g), target: fc.constantFrom(...g.graph.services) }),
        ),
        ({ g: { manifest, graph }, target }) => {
          const hard = (from: string, to: string) =>
            graph.providersOf(from).some((edge) => edge.to === to && !edge.optional);
          const soft = (from: string, to: string) =>
            graph.providersOf(from).some((edge) => edge.to === to && edge.optional);
          // Brute force: breadth-first over hard consumers, one whole level at a time.
          const distance = new Map<string, number>([[target, 0]]);
          let frontier = [target];
          for (let d = 1; frontier.length > 0; d++) {
            const next = graph.services.filter((s) => !distance.has(s) && frontier.some((f) => hard(s, f)));
            for (const s of next) distance.set(s, d);
            frontier = next;
          }
          const entries = blastRadius(manifest, graph, target);
          const down = entries.filter((e) => e.impact === 'down');
          const degraded = entries.filter((e) => e.impact === 'degraded');
          assert.deepEqual(
            down.map((e) => e.service).sort(),
            [...distance.keys()].filter((s) => s !== target).sort(),
          );
          assert.deepEqual(
            degraded.map((e) => e.service).sort(),
            graph.services
              .filter((s) => !distance.has(s) && [...distance.keys()].some((d) => soft(s, d)))
              .sort(),
          );
          for (const entry of down) {
            assert.equal(entry.distance, distance.get(entry.service));
            assert.ok(hard(entry.service, entry.via));
            assert.equal(distance.get(entry.via), entry.distance - 1);
          }
          for (const entry of degraded) {
            assert.ok(soft(entry.service, entry.via));
            assert.equal(entry.distance, distance.get(entry.via)! + 1);
          }
          for (const entry of entries) assert.equal(entry.tier, manifest.services[entry.service]!.tier);
          const rank = (e: BlastRadiusEntry) =>
            [e.impact === 'down' ? 0 : 1, e.distance, TIER_RANK[e.tier]] as const;
          for (let i = 0; i + 1 < entries.length; i++) {
            const [a, b] = [rank(entries[i]!), rank(entries[i + 1]!)];
            const order =
              a[0] - b[0] ||
              a[1] - b[1] ||
              a[2] - b[2] ||
              (entries[i]!.service < entries[i + 1]!.service ? -1 : 1);
            assert.ok(order < 0, `${entries[i]!.service} before ${entries[i + 1]!.service}`);
          }
        },
      ),
    );
  });

  it('metrics count edges, and depth on a DAG is the longest provider path', () => {
    fc.assert(
      fc.property(arbGraph('dag'), ({ graph }) => {
        const memo = new Map<string, number>();
        const longest = (s: string): number => {
          if (!memo.has(s)) memo.set(s, Math.max(0, ...graph.providersOf(s).map((e) => longest(e.to) + 1)));
          return memo.get(s)!;
        };
        const metrics = graphMetrics(graph);
        assert.deepEqual(Object.keys(metrics), graph.services);
        for (const s of graph.services) {
          assert.deepEqual(metrics[s], {
            fanIn: graph.consumersOf(s).length,
            fanOut: graph.providersOf(s).length,
            depth: longest(s),
          });
        }
      }),
    );
  });

  it('a graph built by hand (no memoised analysis) gives the same answers', () => {
    fc.assert(
      fc.property(arbGraph('any'), ({ manifest, graph }) => {
        const plain: DependencyGraph = {
          services: [...graph.services],
          edges: [...graph.edges],
          providersOf: (s) => graph.providersOf(s),
          consumersOf: (s) => graph.consumersOf(s),
        };
        assert.deepEqual(findCycles(plain), findCycles(graph));
        assert.deepEqual(topologicalOrder(plain), topologicalOrder(graph));
        assert.deepEqual(graphMetrics(plain), graphMetrics(graph));
        const target = graph.services[0]!;
        assert.deepEqual(blastRadius(manifest, plain, target), blastRadius(manifest, graph, target));
      }),
    );
  });

  it('metrics on any graph: a consumer outside a provider’s cycle is strictly deeper', () => {
    fc.assert(
      fc.property(arbGraph('any'), ({ graph }) => {
        const metrics = graphMetrics(graph);
        for (const edge of graph.edges) {
          const sameCycle = reachable(graph, edge.to).has(edge.from);
          const [consumer, provider] = [metrics[edge.from]!.depth, metrics[edge.to]!.depth];
          assert.ok(sameCycle ? consumer === provider : consumer > provider);
        }
      }),
    );
  });
});
