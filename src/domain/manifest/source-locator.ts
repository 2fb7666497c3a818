// Maps a field path (['services', 'orders', 'dependsOn', 'payments']) back to the place in
// the YAML text where it is written, so every problem, including those found later by
// the graph and compatibility checks, can name a line and a column.
import { isAlias, isCollection, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import type { FieldPath } from '../problems.ts';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type Locator = (path: FieldPath) => Position | undefined;

export interface SourceLocator {
  /**
   * Where the value at `path` is written, or its nearest written ancestor. An entry
   * whose value is a block (or empty) is placed at its key: `orders:` says more than the
   * first line of what follows it.
   */
  readonly locate: Locator;
  /** Where the key of the entry at `path` is written: for unknown keys and bad names. */
  readonly locateKey: Locator;
  /** The text of the scalar at `path` as written (`1.0`, not the number 1), if it is one. */
  readonly scalarSource: (path: FieldPath) => string | undefined;
}

interface Found {
  readonly node: Node | null;
  /** The mapping entry that holds `node`, when it was reached through a key. */
  readonly pair: Pair<unknown, unknown> | undefined;
  /** How many segments of the path were found. */
  readonly depth: number;
}

interface MapIndex {
  readonly own: Map<string, Pair<unknown, unknown>>;
  readonly merged: readonly unknown[];
}

export function createSourceLocator(doc: Document, lines: LineCounter): SourceLocator {
  // Maps can hold thousands of services; index each one the first time a path crosses it.
  const indexes = new WeakMap<YAMLMap, MapIndex>();

  const indexOf = (map: YAMLMap): MapIndex => {
    let index = indexes.get(map);
    if (index === undefined) {
      const own = new Map<string, Pair<unknown, unknown>>();
      const merged: unknown[] = [];
      for (const pair of map.items) {
        if (isMergeKey(pair.key)) merged.push(pair.value);
        // The last of duplicate keys wins, as it does in the parsed value.
        else own.set(keyText(pair.key), pair);
      }
      index = { own, merged };
      indexes.set(map, index);
    }
    return index;
  };

  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

  const lookup = (map: YAMLMap, key: string): Pair<unknown, unknown> | undefined => {
    const index = indexOf(map);
    const own = index.own.get(key);
    if (own !== undefined) return own;
    // `<<: *defaults` (or a list of them): the first merged mapping that has the key.
    for (const source of index.merged) {
      const resolved = deref(source);
      const candidates = isSeq(resolved) ? resolved.items.map(deref) : [resolved];
      for (const candidate of candidates) {
        const pair = isMap(candidate) ? lookup(candidate, key) : undefined;
        if (pair !== undefined) return pair;
      }
    }
    return undefined;
  };

  const find = (path: FieldPath): Found => {
    let found: Found = { node: doc.contents, pair: undefined, depth: 0 };
    for (const segment of path) {
      const container = deref(found.node);
      if (isMap(container)) {
        const pair = lookup(container, String(segment));
        if (pair === undefined) break;
        found = { node: asNode(pair.value), pair, depth: found.depth + 1 };
      } else if (isSeq(container) && typeof segment === 'number') {
        const item = asNode(container.items[segment]);
        if (item === null) break;
        found = { node: item, pair: undefined, depth: found.depth + 1 };
      } else {
        break;
      }
    }
    return found;
  };

  const position = (node: unknown): Position | undefined => {
    const range = (node as Node | null)?.range;
    if (range === undefined || range === null) return undefined;
    const { line, col } = lines.linePos(range[0]);
    return { line, column: col };
  };

  const valuePosition = ({ node, pair }: Found): Position | undefined => {
    const atKey =
      pair !== undefined &&
      (node === null || (isScalar(node) && node.value === null) || (isCollection(node) && !node.flow));
    return (atKey ? position(pair.key) : position(node)) ?? position(pair?.key);
  };

  return {
    locate: (path) => valuePosition(find(path)),
    locateKey: (path) => {
      const found = find(path);
      return found.depth === path.length && found.pair !== undefined
        ? position(found.pair.key)
        : valuePosition(found);
    },
    scalarSource: (path) => {
      const found = find(path);
      if (found.depth !== path.length || !isScalar(found.node)) return undefined;
      return found.node.source ?? String(found.node.value);
    },
  };
}

/** A key as the parsed value spells it: `1:` and `"1":` are both the key "1". */
export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** `<<`, which yaml (with `merge: true`) resolves to a symbol rather than a string. */
export function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

function asNode(value: unknown): Node | null {
  return value !== null && typeof value === 'object' && 'range' in value ? (value as Node) : null;
}
