// The environment an instance starts with. Deliberately not the control plane's own: that
// may hold the operator's secrets (BATON_TOKEN, cloud credentials), and a service gets only
// what its manifest gives it plus what any program needs to run at all.
import { serviceEnvironment } from '../../../ports/instance-spec.ts';
import { ownerMark } from './owner-mark.ts';
import type { InstanceSpec } from '../../../ports/runtime.ts';

const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS'] as const;

export interface ChildEnvironmentInput {
  readonly spec: InstanceSpec;
  readonly ports: Readonly<Record<string, number>>;
  readonly primaryPort: number;
  /** Marks the process as this control plane's: how a restarted one finds it without a record. */
  readonly stateDir: string;
  readonly serverUrl?: string | undefined;
  /** The service's own token (discovery and its own spans); never the admin's. */
  readonly tokenFor?: ((service: string) => string) | undefined;
  /** The control plane's environment, of which only a few variables pass. */
  readonly inherited: Readonly<Record<string, string | undefined>>;
  /** Where instances reach the node's data plane: their dependencies' addresses point there. */
  readonly dataPlaneHost: string;
  /** Variables `telemetry: auto` adds (NODE_OPTIONS with the register module, OTEL_*); none when absent. */
  readonly autoTelemetry?: ((env: Readonly<Record<string, string>>) => Record<string, string>) | undefined;
}

/** `admin-http` → `PORT_ADMIN_HTTP`. */
export function portVariable(name: string): string {
  return `PORT_${name.toUpperCase().replaceAll('-', '_')}`;
}

export function childEnvironment(input: ChildEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = input.inherited[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, serviceEnvironment(input.spec, input.dataPlaneHost));
  // Baton's variables come last: a manifest cannot fake another instance's identity or owner.
  for (const [name, port] of Object.entries(input.ports)) env[portVariable(name)] = String(port);
  env.PORT = String(input.primaryPort);
  env.BATON_SERVICE = input.spec.service;
  env.BATON_INSTANCE = input.spec.id;
  env.BATON_VERSION = input.spec.version;
  env.BATON_REVISION = String(input.spec.revision);
  env.BATON_OWNER = ownerMark(input.stateDir);
  if (input.serverUrl !== undefined) env.BATON_SERVER = input.serverUrl;
  if (input.tokenFor !== undefined) env.BATON_TOKEN = input.tokenFor(input.spec.service);
  if (input.spec.telemetry === 'auto' && input.autoTelemetry !== undefined)
    Object.assign(env, input.autoTelemetry(env));
  return env;
}
