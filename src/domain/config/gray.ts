// A gray release goes first to a share of instances or to one version. The share is decided
// per instance id by a stable hash, so an instance is in or out for the whole gray release
// (it never flaps), and a rollback leaves exactly the instances that were out untouched.
// While it is gray it is watched like a canary (gray-verdict.ts): `watch` is how long, and
// `autoPromote` whether a gray release that stayed healthy that long is promoted by itself.
export type GrayTarget = { readonly share: number } | { readonly version: string };

export type GraySelector = GrayTarget & {
  /** A duration (`5m`); DEFAULT_GRAY_WATCH when absent. */
  readonly watch?: string | undefined;
  readonly autoPromote?: boolean | undefined;
};

export const DEFAULT_GRAY_WATCH = '5m';

export function inGray(selector: GraySelector, instance: { id: string; version: string }): boolean {
  if ('version' in selector) return instance.version === selector.version;
  return bucket(instance.id) < selector.share;
}

/** 0–99 from FNV-1a of the id: even enough over instance ids, and the same on every replica. */
export function bucket(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 100;
}

export function describeGray(gray: GraySelector): string {
  return 'share' in gray ? `${gray.share}% of instances` : `version ${gray.version}`;
}
