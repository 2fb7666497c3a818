// Lays the map out with ELK's layered algorithm (consumers before providers), in a Web
// Worker. ELK is 1.6 MB: it is fetched only when the map is first shown, never on the
// first load of the console.
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Tier } from '../api/types.ts';
import { edgeLabelTemplate, type MapModel } from './graph-model.ts';

export type Direction = 'RIGHT' | 'DOWN';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface MapLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, Box>;
  readonly edges: ReadonlyMap<
    string,
    { readonly points: readonly Point[]; readonly label?: Box | undefined }
  >;
}

/** More critical services are drawn bigger; the outline says the tier too (see styles.css). */
const NODE_HEIGHT: Record<Tier, number> = { critical: 60, high: 56, medium: 52, low: 48 };
const CHAR_WIDTH = 8.2;
const LABEL_CHAR_WIDTH = 7.3;
/** One line of an edge label (12 px text). */
export const LABEL_LINE_HEIGHT = 15;

function labelOf(lines: readonly string[]): { text: string; width: number; height: number }[] {
  if (lines.length === 0) return [];
  const widest = Math.max(...lines.map((l) => l.length));
  return [
    {
      text: lines.join('\n'),
      width: widest * LABEL_CHAR_WIDTH + 8,
      height: lines.length * LABEL_LINE_HEIGHT + 2,
    },
  ];
}

interface Elk {
  layout(graph: ElkNode): Promise<ElkNode>;
}

let engine: Promise<Elk> | undefined;

function elk(): Promise<Elk> {
  engine ??= import('elkjs/lib/elk-api.js').then((module) => {
    // elk-api is CommonJS: depending on interop, the class is `default` or `default.default`.
    const exported = module.default as unknown as { default?: typeof module.default };
    const ELK = exported.default ?? module.default;
    return new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });
  });
  return engine;
}

export function nodeSize(id: string, tier: Tier, compact: boolean): { width: number; height: number } {
  const min = compact ? 104 : 132;
  return { width: Math.max(min, Math.ceil(id.length * CHAR_WIDTH) + 32), height: NODE_HEIGHT[tier] };
}

export async function layoutMap(model: MapModel, direction: Direction): Promise<MapLayout> {
  const compact = direction === 'DOWN';
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': compact ? '56' : '90',
      'elk.spacing.nodeNode': compact ? '20' : '28',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
    },
    children: model.nodes.map((n) => ({ id: n.id, ...nodeSize(n.id, n.tier, compact) })),
    edges: model.edges.map((e): ElkExtendedEdge => ({
      id: e.id,
      sources: [e.from],
      targets: [e.to],
      // Labels take part in the layout so they never sit on a node. Room is kept for the
      // widest figures, so traffic changing never moves anything.
      labels: compact ? [] : labelOf(edgeLabelTemplate(e)),
    })),
  };
  const laid = await (await elk()).layout(graph);
  const nodes = new Map<string, Box>();
  for (const c of laid.children ?? []) {
    nodes.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 });
  }
  const edges = new Map<string, { points: Point[]; label?: Box }>();
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    const section = e.sections?.[0];
    if (!section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const l = e.labels?.[0];
    const label = l ? { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } : undefined;
    edges.set(e.id, label ? { points, label } : { points });
  }
  return { width: laid.width ?? 0, height: laid.height ?? 0, nodes, edges };
}
