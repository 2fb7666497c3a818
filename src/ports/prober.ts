// The Prober port: one health probe against one instance. The engine decides when to probe
// and what a result means (domain/health); a prober only answers "did it pass, and why not".
import type { HealthSpec } from '../domain/health/health-tracker.ts';
import type { RunningInstance } from './runtime.ts';

export type ProbeTarget =
  | { readonly kind: 'http'; readonly address: string; readonly port: number; readonly path: string }
  | { readonly kind: 'tcp'; readonly address: string; readonly port: number }
  | {
      readonly kind: 'command';
      readonly command: string;
      readonly args: readonly string[];
      readonly cwd: string;
      readonly env: Readonly<Record<string, string>>;
      /** Whose health it checks: a container runtime runs the command inside that instance. */
      readonly instance: string;
    };

export interface ProbeResult {
  readonly ok: boolean;
  /** Short and human: `HTTP 200`, `HTTP 503`, `ECONNREFUSED`, `timeout after 1000 ms`, `exit 1`. */
  readonly detail: string;
  readonly durationMs: number;
}

export interface Prober {
  /**
   * Never rejects: every failure, including the timeout and an abort through `signal`, is a
   * result with `ok: false`. Resolves within about `timeoutMs`.
   */
  probe(target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult>;
}

export type ProbeTargetResolution =
  { readonly ok: true; readonly target: ProbeTarget } | { readonly ok: false; readonly detail: string };

/**
 * Where to probe an instance. Without a probe in the manifest it is a TCP connect on the
 * primary port: a process that listens is the least we can check. A probe port is a port
 * name (`admin` → the instance's `admin` port) or a number; an unknown name is reported,
 * never silently replaced by another port.
 */
export function probeTarget(
  health: HealthSpec | undefined,
  instance: RunningInstance,
  cwd: string,
  env: Readonly<Record<string, string>>,
): ProbeTargetResolution {
  if (health?.command) {
    const { command, args } = health.command;
    return { ok: true, target: { kind: 'command', command, args, cwd, env, instance: instance.id } };
  }
  const portName = health?.http?.port ?? health?.tcp?.port;
  const port = resolvePort(portName, instance);
  if (port === undefined) {
    const names = Object.keys(instance.ports).join(', ') || 'none';
    return {
      ok: false,
      detail: `health probe port "${portName}" is not a port of the instance (ports: ${names})`,
    };
  }
  if (health?.http) {
    return { ok: true, target: { kind: 'http', address: instance.address, port, path: health.http.path } };
  }
  return { ok: true, target: { kind: 'tcp', address: instance.address, port } };
}

function resolvePort(name: string | undefined, instance: RunningInstance): number | undefined {
  if (name === undefined) return instance.port;
  if (Object.hasOwn(instance.ports, name)) return instance.ports[name];
  const number = /^\d{1,5}$/.test(name) ? Number(name) : NaN;
  return number >= 1 && number <= 65535 ? number : undefined;
}
