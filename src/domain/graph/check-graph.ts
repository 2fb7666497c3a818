// Everything wrong with a manifest's dependency graph, as problems pointing into the
// manifest. The caller (the manifest loader) turns paths into file lines.
import semver from 'semver';
import type { Manifest } from '../manifest/model.ts';
import { TIER_RANK } from '../manifest/schema.ts';
import type { FieldPath, Problem } from '../problems.ts';
import { didYouMean } from '../manifest/suggestions.ts';
import { checkAddresses } from './check-addresses.ts';
import { buildGraph, findCycles, graphMetrics } from './dependency-graph.ts';
import type { DependencyGraph, ServiceMetrics } from './dependency-graph.ts';

// The seed: "no dependency, no harm" — dependencies are fragile and chain failures
// together like ships chained at Red Cliffs, so since some shared services will always be
// depended on, the aim is to reduce both the depth and the breadth of dependencies. These
// limits are where a chain or a fan-out stops being reviewable at a glance; they warn,
// never block.

/** A failure at the bottom of a chain deeper than this cascades through too many services. */
export const MAX_DEPENDENCY_DEPTH = 5;
/** A service that needs more providers than this fails whenever any one of them does. */
export const MAX_FAN_OUT = 10;

/** Chains longer than this are shown as their first and last links. */
const CHAIN_SHOWN = 9;

export function checkGraph(manifest: Manifest, graph: DependencyGraph = buildGraph(manifest)): Problem[] {
  const problems: Problem[] = [];
  const satisfies = memoizedSatisfies();
  for (const service of Object.keys(manifest.services).sort()) {
    problems.push(...checkDependencies(manifest, service, satisfies));
  }
  for (const cycle of findCycles(graph)) {
    // A self-loop is reported once, as `self-dependency`.
    if (cycle.length > 2) problems.push(cycleProblem(cycle));
  }
  problems.push(...checkShape(graph));
  problems.push(...checkAddresses(manifest));
  return problems;
}

function checkDependencies(manifest: Manifest, service: string, satisfies: Satisfies): Problem[] {
  const spec = manifest.services[service]!;
  const problems: Problem[] = [];
  for (const target of Object.keys(spec.dependsOn).sort()) {
    const { range, optional } = spec.dependsOn[target]!;
    const path: FieldPath = ['services', service, 'dependsOn', target];
    if (target === service) {
      problems.push({
        severity: 'error',
        code: 'self-dependency',
        message: `\`${service}\` depends on itself`,
        path,
        hint: `remove \`${service}\` from its own dependsOn: a service calls its own code directly, and a self-edge would make it wait for itself to start`,
      });
      continue;
    }
    // `hasOwn`, not a lookup: a service named `constructor` must not be found on the prototype.
    if (!Object.hasOwn(manifest.services, target)) {
      problems.push(absentProblem(manifest, service, target, optional, path));
      continue;
    }
    const provider = manifest.services[target]!;
    if (!satisfies(provider.version, range)) {
      problems.push({
        severity: 'error',
        code: 'range-unsatisfied',
        message: `${service} requires ${target} ${range}, but this manifest runs ${target} ${provider.version}`,
        path,
        hint: `change the range to one that accepts ${provider.version} (e.g. ^${provider.version}), or run a version of ${target} that satisfies ${range}`,
      });
    }
    if (!optional && TIER_RANK[provider.tier] > TIER_RANK[spec.tier]) {
      problems.push({
        severity: 'warning',
        code: 'tier-inversion',
        message: `${spec.tier} service \`${service}\` depends on ${provider.tier}-tier \`${target}\``,
        path,
        hint: `raise the tier of ${target}, or mark the dependency optional and degrade without it`,
      });
    }
  }
  return problems;
}

type Satisfies = (version: string, range: string) => boolean;

/**
 * semver's `satisfies` (prereleases only match ranges that name them), parsing each
 * distinct range and version once: thousands of edges share a handful of each.
 */
function memoizedSatisfies(): Satisfies {
  const ranges = new Map<string, InstanceType<typeof semver.Range> | null>();
  const versions = new Map<string, InstanceType<typeof semver.SemVer> | null>();
  return (version, range) => {
    let parsedRange = ranges.get(range);
    if (parsedRange === undefined) {
      parsedRange =
        semver.validRange(range) === null ? null : new semver.Range(range, { includePrerelease: false });
      ranges.set(range, parsedRange);
    }
    let parsedVersion = versions.get(version);
    if (parsedVersion === undefined) {
      parsedVersion = semver.parse(version);
      versions.set(version, parsedVersion);
    }
    return parsedRange !== null && parsedVersion !== null && parsedRange.test(parsedVersion);
  };
}

/**
 * Unknown dependency targets in a manifest that failed its schema check: the data as
 * parsed, whatever its shape, so that they are reported with the schema's problems rather
 * than only once those are fixed.
 */
export function unknownTargetsOfRaw(data: unknown): Problem[] {
  const services = isRecord(data) && isRecord(data['services']) ? data['services'] : {};
  const problems: Problem[] = [];
  const manifest = { services } as unknown as Manifest;
  for (const service of Object.keys(services).sort()) {
    const spec = services[service];
    const dependsOn = isRecord(spec) && isRecord(spec['dependsOn']) ? spec['dependsOn'] : {};
    for (const target of Object.keys(dependsOn).sort()) {
      if (target === service || Object.hasOwn(services, target)) continue;
      const dependency = dependsOn[target];
      const optional = isRecord(dependency) && dependency['optional'] === true;
      problems.push(
        absentProblem(manifest, service, target, optional, ['services', service, 'dependsOn', target]),
      );
    }
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function absentProblem(
  manifest: Manifest,
  service: string,
  target: string,
  optional: boolean,
  path: FieldPath,
): Problem {
  const suggestion = didYouMean(
    target,
    Object.keys(manifest.services).filter((name) => name !== service),
  );
  const hint = suggestion
    ? `did you mean \`${suggestion}\`?`
    : `declare \`${target}\` under services or remove the dependency`;
  return optional
    ? {
        severity: 'warning',
        code: 'optional-dependency-absent',
        message: `\`${service}\` optionally depends on \`${target}\`, which is not a service in this manifest; it will run without it`,
        path,
        hint,
      }
    : {
        severity: 'error',
        code: 'unknown-dependency',
        message: `\`${service}\` depends on \`${target}\`, which is not a service in this manifest`,
        path,
        hint,
      };
}

function cycleProblem(cycle: readonly string[]): Problem {
  return {
    severity: 'error',
    code: 'dependency-cycle',
    message: `dependency cycle: ${cycle.join(' → ')}`,
    path: ['services', cycle[0]!, 'dependsOn', cycle[1]!],
    hint:
      'a cycle couples these services so tightly that none can be deployed, or fail, alone; ' +
      'invert one dependency: publish events through a message broker that the other side subscribes to, ' +
      'or move the shared part into a third service that calls both',
  };
}

function checkShape(graph: DependencyGraph): Problem[] {
  const metrics = graphMetrics(graph);
  const problems: Problem[] = [];
  for (const service of graph.services) {
    const { depth, fanOut } = metrics[service]!;
    // Every consumer of a deep service is at least as deep, so warn only at the top of
    // each deep chain (where no consumer sits deeper) instead of once per link.
    const atTop = graph.consumersOf(service).every((edge) => metrics[edge.from]!.depth <= depth);
    if (depth > MAX_DEPENDENCY_DEPTH && atTop) {
      problems.push({
        severity: 'warning',
        code: 'deep-dependency-chain',
        message: `\`${service}\` sits on a dependency chain ${depth} deep (more than ${MAX_DEPENDENCY_DEPTH}): ${formatChain(longestChain(graph, metrics, service))}`,
        path: ['services', service, 'dependsOn'],
        hint: `a failure anywhere down the chain reaches \`${service}\`; shorten it: let a caller combine results instead of each service calling the next, or replace a call with an event`,
      });
    }
    if (fanOut > MAX_FAN_OUT) {
      problems.push({
        severity: 'warning',
        code: 'high-fan-out',
        message: `\`${service}\` depends on ${fanOut} services (more than ${MAX_FAN_OUT})`,
        path: ['services', service, 'dependsOn'],
        hint: `each provider is one more way for \`${service}\` to fail; group related providers behind one service, mark the ones it can live without optional, or consume their events instead of calling them`,
      });
    }
  }
  return problems;
}

/** Follows the deepest provider at each step (by name on ties); never revisits, so cycles end it. */
function longestChain(
  graph: DependencyGraph,
  metrics: Record<string, ServiceMetrics>,
  service: string,
): string[] {
  const chain = [service];
  const seen = new Set(chain);
  let at = service;
  while (metrics[at]!.depth > 0) {
    let next: string | undefined;
    for (const edge of graph.providersOf(at)) {
      if (seen.has(edge.to)) continue;
      if (next === undefined || metrics[edge.to]!.depth > metrics[next]!.depth) next = edge.to;
    }
    if (next === undefined) break;
    chain.push(next);
    seen.add(next);
    at = next;
  }
  return chain;
}

function formatChain(chain: readonly string[]): string {
  if (chain.length <= CHAIN_SHOWN) return chain.join(' → ');
  const half = Math.floor((CHAIN_SHOWN - 1) / 2);
  return [...chain.slice(0, half), '…', ...chain.slice(-half)].join(' → ');
}
