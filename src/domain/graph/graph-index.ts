// A dense integer view of a dependency graph. The algorithms run on arrays of indexes
// rather than maps of names so that manifests with thousands of services stay fast, and
// so that they can be written as loops over explicit stacks instead of recursion.

export interface IndexedEdge {
  readonly from: string;
  readonly to: string;
}

export interface GraphIndex {
  /** Sorted, so comparing two indexes is comparing two names: ties break by name for free. */
  readonly names: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** `providers[i]`: what service `i` depends on, ascending. */
  readonly providers: readonly (readonly number[])[];
  /** `consumers[i]`: what depends on service `i`, ascending. */
  readonly consumers: readonly (readonly number[])[];
}

export function indexGraph(services: readonly string[], edges: readonly IndexedEdge[]): GraphIndex {
  const names = [...services].sort();
  const indexOf = new Map<string, number>();
  names.forEach((name, i) => indexOf.set(name, i));
  const providers: number[][] = names.map(() => []);
  const consumers: number[][] = names.map(() => []);
  for (const edge of edges) {
    const from = indexOf.get(edge.from);
    const to = indexOf.get(edge.to);
    if (from === undefined || to === undefined) continue;
    providers[from]!.push(to);
    consumers[to]!.push(from);
  }
  for (const list of providers) list.sort(ascending);
  for (const list of consumers) list.sort(ascending);
  return { names, indexOf, providers, consumers };
}

function ascending(a: number, b: number): number {
  return a - b;
}
