// A problem is an expected outcome (bad input), returned as a value, never thrown.
// Every problem can point at the exact place in the manifest that caused it.

export type Severity = 'error' | 'warning';
export type FieldPath = readonly (string | number)[];

export interface Problem {
  readonly severity: Severity;
  /** Stable, machine-readable code, e.g. `unknown-key`, `dependency-cycle`. */
  readonly code: string;
  readonly message: string;
  /** Path inside the manifest, e.g. ['services', 'orders', 'dependsOn', 'payments']. */
  readonly path: FieldPath;
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly hint?: string | undefined;
}

export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** `services.orders.dependsOn.payments`, with `[3]` for array indexes. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(root)';
}

export function isError(p: Problem): boolean {
  return p.severity === 'error';
}
