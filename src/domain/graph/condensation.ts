// Strongly connected components and the graph of them (the condensation), which is a DAG
// even when the dependency graph has cycles. Topological order, depth and rendering all
// work on it, so a cycle never makes them loop.
import type { GraphIndex } from './graph-index.ts';

export interface Condensation {
  /** Each component's members, ascending; component ids are indexes into this array. */
  readonly components: readonly (readonly number[])[];
  readonly componentOf: readonly number[];
  /** Component ids, providers before consumers; ties go to the component with the smallest name. */
  readonly order: readonly number[];
}

export function condense(index: GraphIndex): Condensation {
  const components = stronglyConnectedComponents(index.providers);
  const componentOf: number[] = new Array<number>(index.names.length);
  components.forEach((members, id) => {
    for (const node of members) componentOf[node] = id;
  });
  return { components, componentOf, order: orderComponents(index, components, componentOf) };
}

/** A component is a cycle when it has several members, or one member that depends on itself. */
export function isCyclic(index: GraphIndex, members: readonly number[]): boolean {
  const only = members[0]!;
  return members.length > 1 || index.providers[only]!.includes(only);
}

/**
 * Tarjan's algorithm with an explicit stack: recursion would overflow the call stack on a
 * chain a few thousand services long.
 */
function stronglyConnectedComponents(providers: readonly (readonly number[])[]): number[][] {
  const n = providers.length;
  const order: number[] = new Array<number>(n).fill(-1);
  const low: number[] = new Array<number>(n).fill(0);
  const nextEdge: number[] = new Array<number>(n).fill(0);
  const onStack: boolean[] = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const path: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  const enter = (node: number): void => {
    order[node] = low[node] = counter++;
    stack.push(node);
    onStack[node] = true;
    path.push(node);
  };

  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    enter(root);
    while (path.length > 0) {
      const node = path[path.length - 1]!;
      const out = providers[node]!;
      const edge = nextEdge[node]!;
      if (edge < out.length) {
        nextEdge[node] = edge + 1;
        const next = out[edge]!;
        if (order[next] === -1) enter(next);
        else if (onStack[next]) low[node] = Math.min(low[node]!, order[next]!);
        continue;
      }
      path.pop();
      const parent = path[path.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[node]!);
      if (low[node] === order[node]) {
        const members: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = false;
          members.push(member);
        } while (member !== node);
        components.push(members.sort((a, b) => a - b));
      }
    }
  }
  return components;
}

/** Kahn's algorithm on the condensation, always taking the ready component with the smallest name. */
function orderComponents(
  index: GraphIndex,
  components: readonly (readonly number[])[],
  componentOf: readonly number[],
): number[] {
  const waitingOn: number[] = components.map((members, id) => {
    let count = 0;
    for (const node of members) {
      for (const provider of index.providers[node]!) if (componentOf[provider] !== id) count++;
    }
    return count;
  });
  // Keyed by the component's smallest member, which is its smallest name.
  const ready = new MinHeap();
  waitingOn.forEach((count, id) => {
    if (count === 0) ready.push(components[id]![0]!);
  });
  const order: number[] = [];
  while (ready.size > 0) {
    const id = componentOf[ready.pop()]!;
    order.push(id);
    for (const node of components[id]!) {
      for (const consumer of index.consumers[node]!) {
        const other = componentOf[consumer]!;
        if (other === id) continue;
        const left = waitingOn[other]! - 1;
        waitingOn[other] = left;
        if (left === 0) ready.push(components[other]![0]!);
      }
    }
  }
  return order;
}

class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
