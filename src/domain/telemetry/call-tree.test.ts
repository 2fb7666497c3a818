import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildTraceView, type TraceView } from './call-tree.ts';
import type { SpanRecord } from './span.ts';
import { spanIdOf, spanOf, TRACE } from './test-spans.ts';

const view = (spans: SpanRecord[]): TraceView => buildTraceView(TRACE, spans)!;
const row = (v: TraceView, label: string) => v.rows.find((r) => r.spanId === spanIdOf(label))!;

describe('buildTraceView', () => {
  // root 0–10 ms: a 1–4, b 5–9 (b has c 6–7); a Galileo-style checkout
  const checkout = [
    spanOf({ id: 'b', parent: 'root', at: 5, ms: 4, service: 'orders' }),
    spanOf({ id: 'root', at: 0, ms: 10, service: 'web', kind: 'server' }),
    spanOf({ id: 'c', parent: 'b', at: 6, ms: 1, service: 'ledger' }),
    spanOf({ id: 'a', parent: 'root', at: 1, ms: 3, service: 'inventory' }),
  ];

  it('orders rows depth-first, children by start, with depth and child links', () => {
    const v = view(checkout);
    assert.deepEqual(
      v.rows.map((r) => [r.name, r.depth]),
      [
        ['root', 0],
        ['a', 1],
        ['b', 1],
        ['c', 2],
      ],
    );
    assert.deepEqual(row(v, 'root').children, [spanIdOf('a'), spanIdOf('b')]);
    assert.deepEqual(v.roots, [spanIdOf('root')]);
    assert.deepEqual(v.services, ['inventory', 'ledger', 'orders', 'web']);
    assert.equal(v.durationMs, 10);
    assert.equal(v.spanCount, 4);
  });

  it('gives each span its start offset, gap and self time', () => {
    const v = view(checkout);
    assert.deepEqual(
      v.rows.map((r) => [r.name, r.startMs, r.gapMs, r.durationMs, r.selfMs]),
      [
        ['root', 0, 0, 10, 3], // 10 − a 3 − b 4
        ['a', 1, 1, 3, 3], // 1 ms after its parent started
        ['b', 5, 1, 4, 3], // 1 ms after a ended
        ['c', 6, 1, 1, 1],
      ],
    );
  });

  it('counts overlapping children once and a child past its parent only while the parent ran', () => {
    const v = view([
      spanOf({ id: 'p', at: 0, ms: 10 }),
      spanOf({ id: 'x', parent: 'p', at: 2, ms: 4 }), // 2–6
      spanOf({ id: 'y', parent: 'p', at: 4, ms: 4 }), // 4–8, overlaps x
      spanOf({ id: 'z', parent: 'p', at: 9, ms: 5 }), // 9–14, fire-and-forget past p's end
    ]);
    assert.equal(row(v, 'p').selfMs, 10 - 6 - 1); // covered: 2–8 and 9–10
    assert.equal(row(v, 'y').gapMs, -2, 'negative: started while x ran');
    assert.equal(v.durationMs, 14);
  });

  it('shows spans whose parent has not arrived as orphan roots, after the true root', () => {
    const v = view([
      spanOf({ id: 'late', parent: 'missing', at: 1, ms: 1 }),
      spanOf({ id: 'root', at: 2, ms: 5 }),
    ]);
    assert.deepEqual(
      v.rows.map((r) => [r.name, r.depth, r.orphan]),
      [
        ['root', 0, false],
        ['late', 0, true],
      ],
    );
  });

  it('survives parent links that loop, and keeps the first copy of a duplicated span', () => {
    const v = view([
      spanOf({ id: 'a', parent: 'b', at: 0, ms: 2 }),
      spanOf({ id: 'b', parent: 'a', at: 1, ms: 2 }),
      spanOf({ id: 'self', parent: 'self', at: 3, ms: 1 }),
      spanOf({ id: 'self', at: 9, ms: 9 }),
    ]);
    assert.equal(v.rows.length, 3);
    assert.deepEqual(new Set(v.rows.map((r) => r.name)), new Set(['a', 'b', 'self']));
    assert.equal(row(v, 'self').startMs, 3);
  });

  it('returns undefined for no spans', () => {
    assert.equal(buildTraceView(TRACE, []), undefined);
  });

  it('reads failure the way the figures do: 5xx or error status, never a 4xx', () => {
    const v = view([
      spanOf({ id: 'r', ms: 5, kind: 'server', attributes: { 'http.response.status_code': 503 } }),
      spanOf({
        id: 'c',
        parent: 'r',
        ms: 1,
        status: 'error',
        attributes: { 'http.response.status_code': 402 },
      }),
      spanOf({ id: 'd', parent: 'r', at: 2, ms: 1, status: 'error', statusMessage: 'ECONNREFUSED' }),
    ]);
    assert.deepEqual(
      v.rows.map((r) => [r.name, r.error]),
      [
        ['r', true],
        ['c', false],
        ['d', true],
      ],
    );
    assert.equal(v.errorCount, 2);
    assert.equal(row(v, 'd').statusMessage, 'ECONNREFUSED');
  });

  it('adds up: when calls run one after another inside their parents, self times sum to the root', () => {
    // A random tree where each span's children are laid out sequentially, with gaps, inside it.
    interface Node {
      readonly gap: number;
      readonly self: number;
      readonly kids: readonly Node[];
    }
    const tree = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.record({
        gap: fc.integer({ min: 0, max: 50 }),
        self: fc.integer({ min: 0, max: 50 }),
        kids: fc.oneof(
          { maxDepth: 4 },
          fc.constant<readonly Node[]>([]),
          fc.array(tie('node'), { maxLength: 3 }),
        ),
      }),
    })).node;
    fc.assert(
      fc.property(tree, (root) => {
        const spans: SpanRecord[] = [];
        let next = 0;
        const lay = (n: Node, at: number, parent?: string): number => {
          const id = `s${next++}`;
          let cursor = at;
          for (const kid of n.kids) cursor = lay(kid, cursor + kid.gap, id);
          const end = cursor + n.self;
          spans.push(spanOf({ id, parent, at: at / 1000, ms: (end - at) / 1000 }));
          return end;
        };
        lay(root, 0);
        const v = view(spans);
        const selfTotal = v.rows.reduce((sum, r) => sum + Math.round(r.selfMs * 1000), 0);
        assert.equal(selfTotal, Math.round(v.rows[0]!.durationMs * 1000));
        assert.ok(v.rows.every((r) => r.selfMs >= 0 && r.gapMs >= 0));
      }),
    );
  });
});
