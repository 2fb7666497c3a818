// The dependency map the seed asks every architecture to have, in three forms: plain
// text for a terminal, Mermaid for Markdown (GitHub renders it), DOT for Graphviz.
// Edges point from consumer to provider; cycles are drawn in red so they stand out.
import type { Manifest } from '../manifest/model.ts';
import type { Tier } from '../manifest/schema.ts';
import { analysisOf } from './analysis.ts';
import { isCyclic } from './condensation.ts';
import type { DependencyEdge, DependencyGraph } from './dependency-graph.ts';
import { findCycles } from './dependency-graph.ts';

const TIER_STYLE: Record<Tier, { readonly color: string; readonly fill: string; readonly penwidth: number }> =
  {
    critical: { color: '#c0392b', fill: '#fdecea', penwidth: 3 },
    high: { color: '#d35400', fill: '#fef3e6', penwidth: 2 },
    medium: { color: '#2471a3', fill: '#eaf2f8', penwidth: 1.5 },
    low: { color: '#7f8c8d', fill: '#f4f6f6', penwidth: 1 },
  };
const CYCLE_COLOR = '#e74c3c';

interface Layout {
  /** Providers before consumers; the members of a cycle together, by name. */
  readonly order: readonly string[];
  readonly inCycle: (edge: DependencyEdge) => boolean;
}

function layout(graph: DependencyGraph): Layout {
  const { index, condensation } = analysisOf(graph);
  const { components, componentOf, order } = condensation;
  const cyclic = components.map((members) => isCyclic(index, members));
  const componentNamed = (name: string): number => componentOf[index.indexOf.get(name)!]!;
  return {
    order: order.flatMap((id) => components[id]!.map((node) => index.names[node]!)),
    inCycle: (edge) => {
      const id = componentNamed(edge.from);
      return id === componentNamed(edge.to) && cyclic[id]!;
    },
  };
}

/** One service per line, providers first, each followed by the services it calls. */
export function renderText(manifest: Manifest, graph: DependencyGraph): string {
  const { order, inCycle } = layout(graph);
  const lines = [
    `${manifest.name}: ${count(graph.services.length, 'service')}, ${count(graph.edges.length, 'dependency', 'dependencies')}`,
  ];
  const cycles = findCycles(graph);
  if (cycles.length > 0) {
    lines.push(`${count(cycles.length, 'dependency cycle')}:`);
    for (const cycle of cycles) lines.push(`  ✗ ${cycle.join(' → ')}`);
  }
  lines.push('');
  for (const service of order) {
    const spec = manifest.services[service]!;
    lines.push(`${service}@${spec.version} [${spec.tier}]`);
    const present = new Map(graph.providersOf(service).map((edge) => [edge.to, edge]));
    for (const target of Object.keys(spec.dependsOn).sort()) {
      const { range, optional } = spec.dependsOn[target]!;
      const edge = present.get(target);
      const notes = [
        optional ? 'optional' : undefined,
        edge === undefined ? 'not in manifest' : undefined,
        edge !== undefined && inCycle(edge) ? 'cycle' : undefined,
      ].filter((note) => note !== undefined);
      lines.push(`  → ${target} ${range}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A Mermaid flowchart; node ids are positional because service names can be Mermaid keywords (`end`). */
export function renderMermaid(manifest: Manifest, graph: DependencyGraph): string {
  const { inCycle } = layout(graph);
  const ids = new Map(graph.services.map((service, i) => [service, `s${i}`]));
  const lines = ['flowchart LR'];
  for (const [tier, style] of Object.entries(TIER_STYLE)) {
    lines.push(
      `  classDef ${tier} fill:${style.fill},stroke:${style.color},stroke-width:${style.penwidth}px`,
    );
  }
  for (const service of graph.services) {
    const spec = manifest.services[service]!;
    lines.push(
      `  ${ids.get(service)!}["${mermaidText(service)}<br/>${mermaidText(spec.version)}"]:::${spec.tier}`,
    );
  }
  const cycleLinks: number[] = [];
  graph.edges.forEach((edge, i) => {
    const arrow = edge.optional ? '-.->' : '-->';
    lines.push(`  ${ids.get(edge.from)!} ${arrow}|"${mermaidText(edge.range)}"| ${ids.get(edge.to)!}`);
    if (inCycle(edge)) cycleLinks.push(i);
  });
  if (cycleLinks.length > 0) {
    lines.push(`  linkStyle ${cycleLinks.join(',')} stroke:${CYCLE_COLOR},stroke-width:2px`);
  }
  return lines.join('\n') + '\n';
}

/** Mermaid entity codes; `#` first so the codes themselves survive. */
function mermaidText(text: string): string {
  return text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

/** A Graphviz digraph: tier as border colour and width, optional dependencies dashed. */
export function renderDot(manifest: Manifest, graph: DependencyGraph): string {
  const { inCycle } = layout(graph);
  const lines = [
    `digraph ${dotId(manifest.name)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const service of graph.services) {
    const spec = manifest.services[service]!;
    const style = TIER_STYLE[spec.tier];
    const label = `${dotEscape(service)}\\n${dotEscape(spec.version)}`;
    lines.push(
      `  ${dotId(service)} [label="${label}", color="${style.color}", fillcolor="${style.fill}", penwidth=${style.penwidth}, tooltip=${dotId(spec.tier)}];`,
    );
  }
  for (const edge of graph.edges) {
    const attributes = [`label=${dotId(edge.range)}`];
    if (edge.optional) attributes.push('style=dashed');
    if (inCycle(edge)) attributes.push(`color="${CYCLE_COLOR}"`, `fontcolor="${CYCLE_COLOR}"`, 'penwidth=2');
    lines.push(`  ${dotId(edge.from)} -> ${dotId(edge.to)} [${attributes.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Always a quoted string: then no name can be mistaken for a keyword (`node`, `edge`, `graph`). */
function dotId(text: string): string {
  return `"${dotEscape(text)}"`;
}

function dotEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n');
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
