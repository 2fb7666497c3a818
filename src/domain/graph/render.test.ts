// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Manifest } from '../manifest/model.ts';
import { TIERS } from '../manifest/schema.ts';
import { buildGraph } from './dependency-graph.ts';
import { renderDot, renderMermaid, renderText } from './render.ts';
import { manifestOf } from './test-manifest.ts';

const shop = manifestOf({
  gateway: { tier: 'critical', dependsOn: { orders: '^2.0.0', search: { range: '^1.0.0', optional: true } } },
  orders: { version: '2.1.0', tier: 'critical', dependsOn: { payments: '>=1.2 <2', ghost: '^1.0.0' } },
  payments: { version: '1.4.0', tier: 'critical', dependsOn: { ledger: '^1.0.0' } },
  ledger: { tier: 'high' },
  search: { tier: 'low' },
});

const cyclic = manifestOf({
  orders: { dependsOn: { payments: '^1.0.0' } },
  payments: { dependsOn: { orders: '^1.0.0', ledger: '^1.0.0' } },
  ledger: {},
});

describe('renderText', () => {
  it('lists services providers first, each with the services it calls', () => {
    assert.equal(
      renderText(shop, buildGraph(shop)),
      [
        'shop: 5 services, 4 dependencies',
        '',
        'ledger@1.0.0 [high]',
        'payments@1.4.0 [critical]',
        '  → ledger ^1.0.0',
        'orders@2.1.0 [critical]',
        '  → ghost ^1.0.0 (not in manifest)',
        '  → payments >=1.2 <2',
        'search@1.0.0 [low]',
        'gateway@1.0.0 [critical]',
        '  → orders ^2.0.0',
        '  → search ^1.0.0 (optional)',
        '',
      ].join('\n'),
    );
  });

  it('lists the cycles and marks the edges that form them', () => {
    const text = renderText(cyclic, buildGraph(cyclic));
    assert.equal(
      text,
      [
        'shop: 3 services, 3 dependencies',
        '1 dependency cycle:',
        '  ✗ orders → payments → orders',
        '',
        'ledger@1.0.0 [medium]',
        'orders@1.0.0 [medium]',
        '  → payments ^1.0.0 (cycle)',
        'payments@1.0.0 [medium]',
        '  → ledger ^1.0.0',
        '  → orders ^1.0.0 (cycle)',
        '',
      ].join('\n'),
    );
  });
});

describe('renderMermaid', () => {
  const NODE = /^ {2}(s\d+)\["(.*)<br\/>(.*)"\]:::(\w+)$/;
  const EDGE = /^ {2}(s\d+) (-->|-\.->)\|"(.*)"\| (s\d+)$/;

  function parse(text: string) {
    const lines = text.trimEnd().split('\n');
    const names = new Map<string, string>();
    const nodes: string[] = [];
    const edges: string[] = [];
    const classes: string[] = [];
    const linkStyles: string[] = [];
    for (const line of lines.slice(1)) {
      const node = NODE.exec(line);
      const edge = EDGE.exec(line);
      if (node) {
        names.set(node[1]!, node[2]!);
        nodes.push(`${node[2]}@${node[3]} ${node[4]}`);
      } else if (edge) {
        edges.push(`${names.get(edge[1]!)} ${edge[2]} ${names.get(edge[4]!)} ${edge[3]}`);
      } else if (line.startsWith('  classDef ')) classes.push(line.split(' ')[3]!);
      else if (line.startsWith('  linkStyle ')) linkStyles.push(line.split(' ')[3]!);
      else assert.fail(`unexpected Mermaid line: ${line}`);
    }
    return { header: lines[0], nodes, edges, classes, linkStyles };
  }

  it('is a left-to-right flowchart with a node per service and an arrow per dependency', () => {
    const parsed = parse(renderMermaid(shop, buildGraph(shop)));
    assert.equal(parsed.header, 'flowchart LR');
    assert.deepEqual(parsed.classes, [...TIERS]);
    assert.deepEqual(parsed.nodes, [
      'gateway@1.0.0 critical',
      'ledger@1.0.0 high',
      'orders@2.1.0 critical',
      'payments@1.4.0 critical',
      'search@1.0.0 low',
    ]);
    assert.deepEqual(parsed.edges, [
      'gateway --> orders ^2.0.0',
      'gateway -.-> search ^1.0.0',
      'orders --> payments #gt;=1.2 #lt;2',
      'payments --> ledger ^1.0.0',
    ]);
    assert.deepEqual(parsed.linkStyles, []);
  });

  it('colours the edges of a cycle', () => {
    const graph = buildGraph(cyclic);
    const parsed = parse(renderMermaid(cyclic, graph));
    const cycleEdges = graph.edges.flatMap((e, i) => (e.to === 'ledger' ? [] : [i]));
    assert.deepEqual(parsed.linkStyles, [cycleEdges.join(',')]);
  });
});

describe('renderDot', () => {
  interface Dot {
    readonly name: string;
    readonly nodes: Map<string, Record<string, string>>;
    readonly edges: { from: string; to: string; attributes: Record<string, string> }[];
  }

  /** A strict reader for the subset of DOT the renderer writes; it throws on anything malformed. */
  function parseDot(text: string): Dot {
    const tokens = text.match(/"(?:[^"\\]|\\.)*"|->|[{}[\];,=]|[A-Za-z0-9_.]+|\S/g) ?? [];
    let at = 0;
    const next = (): string => {
      const token = tokens[at++];
      if (token === undefined) throw new Error('unexpected end of DOT');
      return token;
    };
    const expect = (token: string): void => assert.equal(next(), token);
    const id = (): string => {
      const token = next();
      if (token.startsWith('"')) return token.slice(1, -1).replace(/\\(["\\])/g, '$1');
      assert.match(token, /^[A-Za-z0-9_.]+$/);
      return token;
    };
    const attributes = (): Record<string, string> => {
      const out: Record<string, string> = {};
      expect('[');
      for (;;) {
        const key = id();
        expect('=');
        out[key] = id();
        const separator = next();
        if (separator === ']') return out;
        assert.equal(separator, ',');
      }
    };
    expect('digraph');
    const dot: Dot = { name: id(), nodes: new Map(), edges: [] };
    expect('{');
    while (tokens[at] !== '}') {
      const keyword = tokens[at] === 'node' || tokens[at] === 'edge';
      const subject = id();
      if (tokens[at] === '=') {
        next();
        id();
      } else if (tokens[at] === '->') {
        next();
        const to = id();
        dot.edges.push({ from: subject, to, attributes: attributes() });
      } else {
        const attrs = attributes();
        if (!keyword) dot.nodes.set(subject, attrs);
      }
      expect(';');
    }
    expect('}');
    assert.equal(at, tokens.length, 'nothing after the closing brace');
    return dot;
  }

  it('is a well-formed digraph with every service and every dependency', () => {
    const graph = buildGraph(shop);
    const text = renderDot(shop, graph);
    assert.match(text, /rankdir=LR;/);
    const dot = parseDot(text);
    assert.equal(dot.name, 'shop');
    assert.deepEqual([...dot.nodes.keys()], graph.services);
    assert.equal(dot.nodes.get('orders')!.label, 'orders\\n2.1.0');
    assert.deepEqual(
      dot.edges.map((e) => `${e.from} -> ${e.to} ${e.attributes.label} ${e.attributes.style ?? 'solid'}`),
      [
        'gateway -> orders ^2.0.0 solid',
        'gateway -> search ^1.0.0 dashed',
        'orders -> payments >=1.2 <2 solid',
        'payments -> ledger ^1.0.0 solid',
      ],
    );
  });

  it('draws more critical services with a heavier border', () => {
    const dot = parseDot(renderDot(shop, buildGraph(shop)));
    const width = (service: string) => Number(dot.nodes.get(service)!.penwidth);
    assert.ok(width('orders') > width('ledger'));
    assert.ok(width('ledger') > width('search'));
  });

  it('colours the edges of a cycle', () => {
    const dot = parseDot(renderDot(cyclic, buildGraph(cyclic)));
    const coloured = dot.edges
      .filter((e) => e.attributes.color !== undefined)
      .map((e) => `${e.from}->${e.to}`);
    assert.deepEqual(coloured, ['orders->payments', 'payments->orders']);
  });

  it('quotes and escapes every id, so no name can break the document', () => {
    const spec = shop.services.ledger!;
    const odd: Manifest = {
      name: 'my "shop"',
      services: {
        node: spec,
        'we"ird\\': { ...spec, dependsOn: { node: { range: '^1.0.0', optional: false } } },
      },
    };
    const dot = parseDot(renderDot(odd, buildGraph(odd)));
    assert.equal(dot.name, 'my "shop"');
    assert.deepEqual([...dot.nodes.keys()], ['node', 'we"ird\\']);
    assert.deepEqual(
      dot.edges.map((e) => [e.from, e.to]),
      [['we"ird\\', 'node']],
    );
  });
});
