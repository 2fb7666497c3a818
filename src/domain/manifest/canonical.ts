import { createHash } from 'node:crypto';
import type { Manifest } from './model.ts';

/** JSON with object keys sorted at every depth, so equal manifests serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** The identity of an architecture: two manifests with the same hash run the same thing. */
export function manifestHash(manifest: Manifest): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}
