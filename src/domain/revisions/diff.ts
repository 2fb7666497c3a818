// What changed between two versions of the architecture, down to the leaf fields of each
// service, so that `baton diff` and `apply --dry-run` can say exactly what an apply does.
import semver from 'semver';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';

export type VersionBump = 'major' | 'minor' | 'patch' | 'prerelease' | 'downgrade' | 'none';

export interface FieldChange {
  /** Dotted within the service, e.g. 'dependsOn.payments.range', 'env.LOG_LEVEL', 'routes[0].path'. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface ServiceDiff {
  readonly service: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** For an added or removed service only one side is set and the bump is 'none'. */
  readonly version?: { from?: string; to?: string; bump: VersionBump };
  readonly fields: readonly FieldChange[];
}

export interface ManifestDiff {
  /** Sorted by name; unchanged services omitted. */
  readonly services: readonly ServiceDiff[];
  /** Manifest-level fields: name, description. */
  readonly top: readonly FieldChange[];
  readonly unchanged: number;
}

export function diffManifests(from: Manifest | undefined, to: Manifest): ManifestDiff {
  const before = from?.services ?? {};
  const after = to.services;
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const services: ServiceDiff[] = [];
  let unchanged = 0;
  for (const service of names) {
    const diff = diffService(service, before[service], after[service]);
    if (diff) services.push(diff);
    else unchanged++;
  }
  const top: FieldChange[] = [];
  if (from?.name !== to.name) top.push(change('name', from?.name, to.name));
  if (from?.description !== to.description)
    top.push(change('description', from?.description, to.description));
  return { services, top, unchanged };
}

/** How a version moved; prerelease covers any change below the patch number (e.g. 1.2.0-rc.1 → 1.2.0). */
export function versionBump(from: string, to: string): VersionBump {
  const order = semver.compare(from, to);
  if (order === 0) return 'none';
  if (order > 0) return 'downgrade';
  const a = semver.parse(from)!;
  const b = semver.parse(to)!;
  if (a.major !== b.major) return 'major';
  if (a.minor !== b.minor) return 'minor';
  if (a.patch !== b.patch) return 'patch';
  return 'prerelease';
}

function diffService(
  service: string,
  before: ServiceSpec | undefined,
  after: ServiceSpec | undefined,
): ServiceDiff | undefined {
  if (before && after) {
    const fields = diffValues(before, after);
    if (fields.length === 0) return undefined;
    return {
      service,
      change: 'changed',
      version: { from: before.version, to: after.version, bump: versionBump(before.version, after.version) },
      fields,
    };
  }
  if (after) {
    return {
      service,
      change: 'added',
      version: { to: after.version, bump: 'none' },
      fields: diffValues(undefined, after),
    };
  }
  return {
    service,
    change: 'removed',
    version: { from: before!.version, bump: 'none' },
    fields: diffValues(before, undefined),
  };
}

/** Leaf-level changes between two JSON-like values; the root path is empty. */
export function diffValues(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(before, after, '', out);
  return out;
}

function walk(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (before === undefined && after === undefined) return;
  if (Array.isArray(before) || Array.isArray(after)) {
    walkArray(before, after, path, out);
    return;
  }
  if (isPlainObject(before) || isPlainObject(after)) {
    walkObject(before, after, path, out);
    return;
  }
  if (before !== after) out.push(change(path, before, after));
}

function walkArray(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  const a = Array.isArray(before) ? before : undefined;
  const b = Array.isArray(after) ? after : undefined;
  if (!isContainerPair(before, a, after, b, (a ?? b)!.length)) {
    out.push(change(path, before, after));
    return;
  }
  if (a && b && a.length !== b.length) out.push(change(`${path}.length`, a.length, b.length));
  const length = Math.max(a?.length ?? 0, b?.length ?? 0);
  for (let i = 0; i < length; i++) walk(a?.[i], b?.[i], `${path}[${i}]`, out);
}

function walkObject(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  const a = isPlainObject(before) ? before : undefined;
  const b = isPlainObject(after) ? after : undefined;
  if (!isContainerPair(before, a, after, b, Object.keys((a ?? b)!).length)) {
    out.push(change(path, before, after));
    return;
  }
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  for (const key of keys) walk(a?.[key], b?.[key], path ? `${path}.${key}` : key, out);
}

/**
 * Whether to descend into two containers. Not when the kinds differ (a list became a string),
 * nor when an empty container appears or disappears: it has no leaves, so it is the leaf.
 */
function isContainerPair(
  before: unknown,
  a: unknown,
  after: unknown,
  b: unknown,
  firstSize: number,
): boolean {
  if ((before !== undefined && !a) || (after !== undefined && !b)) return false;
  return Boolean(a && b) || firstSize > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function change(path: string, before: unknown, after: unknown): FieldChange {
  return {
    path,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
  };
}
