// Rolling back one service, and whatever compatibility drags along with it (the seed's
// VersionSet: "if A 1.2 only works with B 2.2 and A 1.1 only with B 2.0, rolling B back
// rolls A back too").
//
// The search moves as few other services as possible to one of their earlier specs so that
// every `dependsOn` range holds. It is iterative deepening on the number of moved services:
// some range is broken at every node that is not a solution, and any solution must move its
// consumer or its provider, so branching on those two is complete and the first solution
// found is a smallest one. Newer specs are tried first, so among the smallest it prefers the
// least drastic. A lower bound on the moves still needed prunes the levels that are too shallow,
// and a node budget turns a pathological history into a refusal rather than a hang.
import semver from 'semver';
import { didYouMean } from '../manifest/suggestions.ts';
import { canonicalJson } from '../manifest/canonical.ts';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { createRangeChecker, type RangeChecker } from './range-check.ts';
import type { ServiceMove } from './revision.ts';

/** Newest first; history[0] is the current revision. */
export interface HistoryEntry {
  readonly revision: number;
  readonly manifest: Manifest;
}

export type ServiceRollbackPlan =
  | {
      readonly ok: true;
      readonly manifest: Manifest;
      /** moves[0] is the requested service. */
      readonly moves: readonly ServiceMove[];
    }
  | {
      readonly ok: false;
      readonly code: 'unknown-service' | 'no-earlier-version' | 'no-compatible-set';
      readonly reason: string;
      readonly hint?: string;
    };

export interface ServiceRollbackOptions {
  /** Roll back to this version rather than the newest earlier one. */
  readonly toVersion?: string | undefined;
  /** How many search nodes to visit before giving up. */
  readonly maxNodes?: number | undefined;
}

export const DEFAULT_MAX_NODES = 100_000;

/** An earlier spec of a service and the newest revision it comes from. */
interface Candidate {
  readonly spec: ServiceSpec;
  readonly revision: number;
}

interface Range {
  readonly consumer: string;
  readonly provider: string;
}

type Search = { readonly found: Map<string, Candidate>; readonly order: string[] } | 'none' | 'budget';

export function planServiceRollback(
  history: readonly HistoryEntry[],
  service: string,
  options: ServiceRollbackOptions = {},
): ServiceRollbackPlan {
  const head = history[0];
  if (!head || !Object.hasOwn(head.manifest.services, service)) return unknownService(head, service);
  const current = head.manifest;
  const currentSpec = current.services[service]!;
  const earlier = history.slice(1);

  const wanted =
    options.toVersion === undefined ? undefined : (semver.valid(options.toVersion) ?? options.toVersion);
  if (wanted === currentSpec.version) {
    return {
      ok: false,
      code: 'no-earlier-version',
      reason: `${service} already runs ${wanted} in the current revision (${head.revision})`,
    };
  }
  const target = findTarget(earlier, service, currentSpec.version, wanted);
  if (!target) return noEarlierVersion(earlier, service, currentSpec.version, wanted);

  const checker = createRangeChecker();
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const search = searchMinimalMoves(
    current,
    service,
    target,
    earlierSpecs(current, earlier),
    checker,
    maxNodes,
  );
  const hint = `roll back the whole architecture with \`baton rollback --to ${target.revision}\``;
  if (search === 'budget') {
    return {
      ok: false,
      code: 'no-compatible-set',
      reason:
        `gave up after examining ${maxNodes} combinations of earlier versions ` +
        `without finding one where every range holds with ${service} ${target.spec.version}`,
      hint,
    };
  }
  if (search === 'none') {
    return {
      ok: false,
      code: 'no-compatible-set',
      reason: noCompatibleSetReason(head, service, target.spec, checker),
      hint,
    };
  }

  const services: Record<string, ServiceSpec> = {};
  for (const name of Object.keys(current.services).sort()) {
    services[name] = search.found.get(name)?.spec ?? current.services[name]!;
  }
  const manifest: Manifest = { ...current, services };
  const moves = search.order.map((name, i): ServiceMove => {
    const before = current.services[name]!;
    const chosen = search.found.get(name)!;
    return {
      service: name,
      from: before.version,
      to: chosen.spec.version,
      fromRevision: chosen.revision,
      reason:
        i === 0
          ? `requested: roll back ${service} ${before.version} → ${chosen.spec.version}`
          : forcedReason(name, before, manifest, search.order.slice(0, i), checker),
    };
  });
  return { ok: true, manifest, moves };
}

function findTarget(
  earlier: readonly HistoryEntry[],
  service: string,
  currentVersion: string,
  wanted: string | undefined,
): Candidate | undefined {
  for (const entry of earlier) {
    if (!Object.hasOwn(entry.manifest.services, service)) continue;
    const spec = entry.manifest.services[service]!;
    if (wanted === undefined ? isOlder(spec.version, currentVersion) : spec.version === wanted) {
      return { spec, revision: entry.revision };
    }
  }
  return undefined;
}

/**
 * Back means an older version: after a rollback the newer version it left sits just before
 * it in history, and going there again would move the service forward under the name rollback.
 */
function isOlder(version: string, than: string): boolean {
  const [a, b] = [semver.valid(version), semver.valid(than)];
  return a !== null && b !== null ? semver.lt(a, b) : version !== than;
}

/**
 * A service's distinct earlier specs, newest first, computed on first use: the search
 * only ever asks about the few services around the broken ranges, and comparing specs
 * across a long history for every service would cost more than the search itself.
 */
function earlierSpecs(
  current: Manifest,
  earlier: readonly HistoryEntry[],
): (name: string) => readonly Candidate[] {
  const memo = new Map<string, readonly Candidate[]>();
  return (name) => {
    let list = memo.get(name);
    if (list) return list;
    const seen = new Set([canonicalJson(current.services[name])]);
    const found: Candidate[] = [];
    for (const entry of earlier) {
      if (!Object.hasOwn(entry.manifest.services, name)) continue;
      const old = entry.manifest.services[name]!;
      const key = canonicalJson(old);
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ spec: old, revision: entry.revision });
    }
    list = found;
    memo.set(name, list);
    return list;
  };
}

function searchMinimalMoves(
  current: Manifest,
  requested: string,
  target: Candidate,
  candidatesOf: (name: string) => readonly Candidate[],
  checker: RangeChecker,
  maxNodes: number,
): Search {
  const specs = current.services;
  const present = (name: string): boolean => Object.hasOwn(specs, name);
  // Who depends on a service as things stand; a moved consumer's ranges are checked from its side.
  const dependents = new Map<string, string[]>();
  for (const [consumer, spec] of Object.entries(specs)) {
    for (const provider of Object.keys(spec.dependsOn)) {
      const list = dependents.get(provider);
      if (list) list.push(consumer);
      else dependents.set(provider, [consumer]);
    }
  }
  const baseline: Range[] = [];
  for (const [consumer, spec] of Object.entries(specs)) {
    for (const provider of Object.keys(spec.dependsOn)) {
      if (!checker.holds(spec, provider, specs[provider])) baseline.push({ consumer, provider });
    }
  }

  const chosen = new Map<string, Candidate>([[requested, target]]);
  const order: string[] = [requested];
  const specOf = (name: string): ServiceSpec | undefined =>
    chosen.get(name)?.spec ?? (present(name) ? specs[name] : undefined);
  const holds = (range: Range): boolean =>
    checker.holds(specOf(range.consumer), range.provider, specOf(range.provider));

  // Only ranges touching a moved service can differ from the current manifest's.
  const brokenNow = (): Range[] => {
    const out: Range[] = [];
    const consider = (range: Range): void => {
      if (!holds(range)) out.push(range);
    };
    for (const range of baseline) {
      if (!chosen.has(range.consumer) && !chosen.has(range.provider)) out.push(range);
    }
    for (const moved of chosen.keys()) {
      for (const provider of Object.keys(specOf(moved)!.dependsOn)) consider({ consumer: moved, provider });
      for (const consumer of dependents.get(moved) ?? []) {
        if (!chosen.has(consumer)) consider({ consumer, provider: moved });
      }
    }
    return out;
  };
  const movable = (name: string): boolean =>
    !chosen.has(name) && present(name) && candidatesOf(name).length > 0;

  // Broken ranges that share no movable service each need a move of their own, so counting a
  // disjoint set of them bounds the moves still needed; it prunes most of the tree when a
  // rollback forces many consumers at once. Infinity: some range can never be mended.
  const movesStillNeeded = (broken: readonly Range[]): number => {
    const used = new Set<string>();
    let count = 0;
    for (const { consumer, provider } of broken) {
      const ends = [consumer, provider].filter(movable);
      if (ends.length === 0) return Infinity;
      if (ends.some((end) => used.has(end))) continue;
      for (const end of ends) used.add(end);
      count++;
    }
    return count;
  };

  let nodes = 0;
  // Per depth: the assignments already explored, and whether the depth limit stopped any branch.
  const pass = { visited: new Set<string>(), cutOff: false };
  const visit = (remaining: number): boolean | 'budget' => {
    if (++nodes > maxNodes) return 'budget';
    const key = [...chosen]
      .map(([name, c]) => `${name}@${c.revision}`)
      .sort()
      .join(' ');
    if (pass.visited.has(key)) return false;
    pass.visited.add(key);
    const broken = brokenNow();
    if (broken.length === 0) return true;
    const needed = movesStillNeeded(broken);
    if (needed === Infinity) return false;
    if (needed > remaining) {
      pass.cutOff = true;
      return false;
    }
    const { consumer, provider } = broken.reduce((a, b) =>
      b.consumer < a.consumer || (b.consumer === a.consumer && b.provider < a.provider) ? b : a,
    );
    const moves: [string, Candidate][] = [];
    // A solution that also moves the provider is reached through the provider branch, so the
    // consumer branch only needs the specs that accept the provider as it is now.
    if (movable(consumer)) {
      for (const candidate of candidatesOf(consumer)) {
        if (checker.holds(candidate.spec, provider, specOf(provider))) moves.push([consumer, candidate]);
      }
    }
    if (movable(provider)) {
      for (const candidate of candidatesOf(provider)) moves.push([provider, candidate]);
    }
    for (const [name, candidate] of moves) {
      chosen.set(name, candidate);
      order.push(name);
      const result = visit(remaining - 1);
      if (result !== false) return result;
      chosen.delete(name);
      order.pop();
    }
    return false;
  };

  // Each level adds a service that was not moved yet, so this ends.
  for (let depth = 0; ; depth++) {
    pass.visited.clear();
    pass.cutOff = false;
    const result = visit(depth);
    if (result === 'budget') return 'budget';
    if (result) return { found: chosen, order };
    // The whole tree fitted within this depth: allowing more moves cannot help.
    if (!pass.cutOff) return 'none';
  }
}

/**
 * Why `name` had to move. The solution is minimal, so keeping `name` at its current spec
 * breaks some range with its final neighbours; name the one closest to the requested move.
 */
function forcedReason(
  name: string,
  before: ServiceSpec,
  manifest: Manifest,
  movedEarlier: readonly string[],
  checker: RangeChecker,
): string {
  const after = manifest.services[name]!;
  const specOf = (service: string): ServiceSpec | undefined =>
    Object.hasOwn(manifest.services, service) ? manifest.services[service] : undefined;
  const rank = (service: string): number => {
    const i = movedEarlier.indexOf(service);
    return i === -1 ? movedEarlier.length : i;
  };
  const reasons: { readonly rank: number; readonly other: string; readonly text: string }[] = [];
  for (const provider of Object.keys(before.dependsOn)) {
    const providerSpec = provider === name ? before : specOf(provider);
    if (checker.holds(before, provider, providerSpec)) continue;
    const range = before.dependsOn[provider]!.range;
    const now = providerSpec ? `which ${providerSpec.version} does not satisfy` : `which is not running`;
    reasons.push({
      rank: rank(provider),
      other: provider,
      text: `${name} ${before.version} requires ${provider} ${range}, ${now}; ${acceptance(name, after, provider, providerSpec)}`,
    });
  }
  for (const [consumer, consumerSpec] of Object.entries(manifest.services)) {
    if (consumer === name || !Object.hasOwn(consumerSpec.dependsOn, name)) continue;
    if (checker.holds(consumerSpec, name, before)) continue;
    const range = consumerSpec.dependsOn[name]!.range;
    reasons.push({
      rank: rank(consumer),
      other: consumer,
      text:
        `${consumer} ${consumerSpec.version} requires ${name} ${range}, which ${before.version} does not satisfy; ` +
        `${name} ${after.version} does`,
    });
  }
  reasons.sort((a, b) => a.rank - b.rank || (a.other < b.other ? -1 : a.other > b.other ? 1 : 0));
  const first = reasons[0];
  if (!first) throw new Error(`${name} moved although keeping it breaks no range: the search is not minimal`);
  return first.text;
}

function acceptance(
  name: string,
  after: ServiceSpec,
  provider: string,
  providerSpec: ServiceSpec | undefined,
): string {
  if (!Object.hasOwn(after.dependsOn, provider))
    return `${name} ${after.version} does not depend on ${provider}`;
  const dep = after.dependsOn[provider]!;
  if (!providerSpec) return `${name} ${after.version} treats ${provider} as optional`;
  return `${name} ${after.version} accepts ${provider} ${dep.range}`;
}

function noCompatibleSetReason(
  head: HistoryEntry,
  service: string,
  target: ServiceSpec,
  checker: RangeChecker,
): string {
  const services = head.manifest.services;
  const alreadyBroken = brokenRanges(services, checker);
  const tail = 'no combination of earlier versions of the other services makes every range hold';
  if (alreadyBroken.length > 0) {
    const more = alreadyBroken.length > 1 ? ` (and ${alreadyBroken.length - 1} more)` : '';
    return `the current revision (${head.revision}) already breaks ${alreadyBroken[0]}${more}, and ${tail}`;
  }
  const moved = { ...services, [service]: target };
  const [firstBreak] = brokenRanges(moved, checker);
  const current = services[service]!;
  return `rolling back ${service} ${current.version} → ${target.version} breaks ${firstBreak}, and ${tail}`;
}

/** Human descriptions of every broken range, sorted by consumer then provider. */
function brokenRanges(services: Readonly<Record<string, ServiceSpec>>, checker: RangeChecker): string[] {
  const out: string[] = [];
  for (const consumer of Object.keys(services).sort()) {
    const spec = services[consumer]!;
    for (const provider of Object.keys(spec.dependsOn).sort()) {
      const providerSpec = Object.hasOwn(services, provider) ? services[provider] : undefined;
      if (checker.holds(spec, provider, providerSpec)) continue;
      const now = providerSpec ? `${provider} is ${providerSpec.version}` : `${provider} is not running`;
      out.push(`${consumer} ${spec.version}'s range ${provider} ${spec.dependsOn[provider]!.range} (${now})`);
    }
  }
  return out;
}

function unknownService(head: HistoryEntry | undefined, service: string): ServiceRollbackPlan {
  if (!head)
    return { ok: false, code: 'unknown-service', reason: 'there is no revision yet: nothing to roll back' };
  const names = Object.keys(head.manifest.services);
  const suggestion = didYouMean(service, names);
  return {
    ok: false,
    code: 'unknown-service',
    reason: `${service} is not in the current revision (${head.revision})`,
    hint: suggestion
      ? `did you mean ${suggestion}?`
      : `services in revision ${head.revision}: ${names.sort().join(', ')}`,
  };
}

function noEarlierVersion(
  earlier: readonly HistoryEntry[],
  service: string,
  currentVersion: string,
  wanted: string | undefined,
): ServiceRollbackPlan {
  if (wanted === undefined) {
    return {
      ok: false,
      code: 'no-earlier-version',
      reason: `${service} has run no version older than ${currentVersion} in the recorded history`,
      hint: `to run another version, name it (\`--to-version\`), or change it in the manifest and \`baton apply\` it`,
    };
  }
  const versions = new Map<string, number>();
  for (const entry of earlier) {
    const spec = Object.hasOwn(entry.manifest.services, service)
      ? entry.manifest.services[service]
      : undefined;
    if (spec && spec.version !== currentVersion && !versions.has(spec.version))
      versions.set(spec.version, entry.revision);
  }
  const known = [...versions].map(([version, revision]) => `${version} (revision ${revision})`);
  return {
    ok: false,
    code: 'no-earlier-version',
    reason: `${service} never ran ${wanted} in the recorded history`,
    ...(known.length > 0 ? { hint: `earlier versions of ${service}: ${known.join(', ')}` } : {}),
  };
}
