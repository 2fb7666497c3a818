// A binary min-heap of integers: the rollout planner's "first safe step in preference order".

export interface MinHeap {
  push(value: number): void;
  /** The smallest value, removed; undefined when empty. */
  pop(): number | undefined;
}

export function createMinHeap(): MinHeap {
  const items: number[] = [];
  const swap = (i: number, j: number): void => {
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  };
  return {
    push(value) {
      items.push(value);
      let i = items.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (items[parent]! <= items[i]!) break;
        swap(i, parent);
        i = parent;
      }
    },
    pop() {
      if (items.length === 0) return undefined;
      const top = items[0]!;
      const last = items.pop()!;
      if (items.length > 0) {
        items[0] = last;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          const right = left + 1;
          let smallest = i;
          if (left < items.length && items[left]! < items[smallest]!) smallest = left;
          if (right < items.length && items[right]! < items[smallest]!) smallest = right;
          if (smallest === i) break;
          swap(i, smallest);
          i = smallest;
        }
      }
      return top;
    },
  };
}
