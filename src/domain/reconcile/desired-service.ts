// What a service should be, derived from the current revision and the operator's intents
// (scale, rolling restart). Pure.
import { createHash } from 'node:crypto';
import { healthPolicy, unhealthyGraceMs } from '../health/health-tracker.ts';
import { canonicalJson } from '../manifest/canonical.ts';
import type { ServiceSpec } from '../manifest/model.ts';
import type { DesiredService } from './next-step.ts';

export interface Overrides {
  /** `baton scale`: instances wanted, within the manifest's min..max. */
  readonly replicas?: number | undefined;
  /** `baton restart`: bumping it changes the spec hash, which rolls every instance. */
  readonly restartGeneration?: number | undefined;
}

/**
 * The part of a spec that a running instance embodies. Fields only the gateway or people
 * read (owner, description, routes, tier, dependency ranges, rollout policy, instance
 * bounds) change without restarting anything.
 */
export function specHash(spec: ServiceSpec, restartGeneration = 0): string {
  const { version, run, image, build, entrypoint, cmd, user } = spec;
  const { env, resources, placement, volumes, mode, ports, health, readiness, liveness } = spec;
  const embodied = {
    version,
    run,
    image,
    build,
    entrypoint,
    cmd,
    user,
    env,
    resources,
    placement,
    volumes,
    mode,
    ports,
    health,
    // Absent ones are left out, so that hashes from before these fields existed stay the same.
    ...(readiness ? { readiness } : {}),
    ...(liveness ? { liveness } : {}),
    restartGeneration,
  };
  return createHash('sha256').update(canonicalJson(embodied)).digest('hex').slice(0, 16);
}

/** `addressing`: whether the runtime's instances share one address, where a fixed port is held by one at a time. */
export function desiredService(
  name: string,
  spec: ServiceSpec,
  overrides: Overrides = {},
  addressing: 'shared' | 'per-instance' = 'shared',
): DesiredService {
  const { min, max } = spec.instances;
  const replicas = Math.min(max, Math.max(min, overrides.replicas ?? min));
  return {
    service: name,
    specHash: specHash(spec, overrides.restartGeneration),
    replicas,
    mode: spec.mode,
    maxSurge: spec.rollout.maxSurge,
    maxUnavailable: spec.rollout.maxUnavailable,
    fixedPort: addressing === 'shared' && spec.ports.some((port) => port.port !== undefined),
    // `health` (or no probe at all) is readiness and liveness in one: failing it for long
    // replaces the instance. A separate readiness probe only gates traffic.
    unhealthyGraceMs:
      spec.readiness === undefined && spec.liveness === undefined
        ? unhealthyGraceMs(healthPolicy(spec.health))
        : undefined,
  };
}
