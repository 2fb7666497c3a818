// What the algorithms need from a graph — dense indexes and the condensation — computed
// once per graph. A graph is immutable, so `apply` can check it, order it and measure it
// without re-deriving the same structure each time.
import { condense } from './condensation.ts';
import type { Condensation } from './condensation.ts';
import { indexGraph } from './graph-index.ts';
import type { GraphIndex, IndexedEdge } from './graph-index.ts';

export interface Analysis {
  readonly index: GraphIndex;
  readonly condensation: Condensation;
}

interface AnalysableGraph {
  readonly services: readonly string[];
  readonly edges: readonly IndexedEdge[];
}

const ANALYSIS = Symbol('analysis');

/** Attaches a lazily computed analysis; hidden (not enumerable) so the graph still compares and serialises as data. */
export function withAnalysis<G extends AnalysableGraph>(graph: G): G {
  let analysis: Analysis | undefined;
  Object.defineProperty(graph, ANALYSIS, { value: () => (analysis ??= analyse(graph)), enumerable: false });
  return graph;
}

/** The memoised analysis of a graph from `withAnalysis`, or a fresh one for any other graph. */
export function analysisOf(graph: AnalysableGraph): Analysis {
  const memo = (graph as { readonly [ANALYSIS]?: () => Analysis })[ANALYSIS];
  return memo ? memo() : analyse(graph);
}

function analyse(graph: AnalysableGraph): Analysis {
  const index = indexGraph(graph.services, graph.edges);
  return { index, condensation: condense(index) };
}
