// The dependency graph: cycles, order, blast radius, metrics, checks and renderings.
export { blastRadius, buildGraph, findCycles, graphMetrics, topologicalOrder } from './dependency-graph.ts';
export type {
  BlastRadiusEntry,
  DependencyEdge,
  DependencyGraph,
  ServiceMetrics,
} from './dependency-graph.ts';
export { checkGraph, MAX_DEPENDENCY_DEPTH, MAX_FAN_OUT } from './check-graph.ts';
export { renderDot, renderMermaid, renderText } from './render.ts';
