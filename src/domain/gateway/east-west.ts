// Service-to-service traffic through the data plane: which listeners an architecture needs
// and what a consumer is told about them.
//
// Every declared dependency is an edge, and every edge gets a port of its own on the node's
// data plane (Consul Connect's `local_bind_port`): the port names the caller and the callee,
// so `HOTEL_URL=http://127.0.0.1:20417` works with any HTTP client, needs no header and no
// name resolution, and stays the same across replacements, scaling, rollouts and
// control-plane restarts, because the port is recorded once and never chosen again. The
// edge's key holds the consumer's range: a consumer whose range changes gets a new port in
// its new instances, while its old instances keep theirs, routed by their own range.
//
// Each service also gets one egress port, where the callee is named by the Host header
// (`Host: payments`) or `x-baton-service`: the only way through the data plane to a service
// the caller did not declare, refused or reported by the architecture's east-west mode.
import type { Dependency, Manifest } from '../manifest/model.ts';

export type EastWestMode = 'enforce' | 'observe';

/** One listener of the data plane, as the snapshot carries it. */
export interface EastWestListener {
  readonly port: number;
  readonly caller: string;
  /** Absent on the caller's egress listener, where each request names its callee. */
  readonly callee?: string | undefined;
  /** The caller's dependsOn range on the callee (absent on the egress listener). */
  readonly range?: string | undefined;
}

/** A listener the architecture needs, before it has a port. */
export interface WantedListener {
  readonly key: string;
  readonly caller: string;
  readonly callee?: string | undefined;
  readonly range?: string | undefined;
}

export const DEFAULT_EAST_WEST_MODE: EastWestMode = 'enforce';

/** `caller→callee range`: what a port is recorded under. */
export function edgeKey(caller: string, callee: string, range: string): string {
  return `${caller}→${callee} ${range}`;
}

/** `caller→*`: the caller's egress listener. */
export function egressKey(caller: string): string {
  return `${caller}→*`;
}

/** The listeners one service needs: its egress, and one per dependency and range. */
export function listenersOf(
  service: string,
  dependsOn: Readonly<Record<string, Dependency>>,
): WantedListener[] {
  const wanted: WantedListener[] = [{ key: egressKey(service), caller: service }];
  for (const callee of Object.keys(dependsOn).sort()) {
    const range = dependsOn[callee]!.range;
    wanted.push({ key: edgeKey(service, callee, range), caller: service, callee, range });
  }
  return wanted;
}

/** Every listener a manifest needs, services in name order. */
export function wantedListeners(manifest: Manifest): WantedListener[] {
  return Object.keys(manifest.services)
    .sort()
    .flatMap((name) => listenersOf(name, manifest.services[name]!.dependsOn));
}

export function eastWestMode(manifest: Pick<Manifest, 'gateway'> | undefined): EastWestMode {
  return manifest?.gateway?.eastWest?.mode ?? DEFAULT_EAST_WEST_MODE;
}

/** The variable that holds a dependency's address: the manifest's choice, else `HOTEL_URL`. */
export function dependencyVariable(callee: string, dependency: Pick<Dependency, 'env'>): string {
  return dependency.env ?? `${callee.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** The egress listener's address, given to every instance. */
export const EGRESS_VARIABLE = 'BATON_EGRESS_URL';

/**
 * Variables no dependency may take: what every runtime sets itself (a dependency named
 * `port` must not become PORT's owner) and Baton's own.
 */
export function reservedVariable(name: string): boolean {
  return name === 'PORT' || name.startsWith('PORT_') || name.startsWith('BATON_');
}

/**
 * The service a request on an egress listener names: `x-baton-service`, else the first label
 * of its Host (`payments`, `payments:8080`, `payments.internal`). Lower-case; '' for none.
 */
export function namedCallee(serviceHeader: string | undefined, host: string): string {
  if (serviceHeader !== undefined && serviceHeader !== '') return serviceHeader.trim().toLowerCase();
  const dot = host.indexOf('.');
  return dot === -1 ? host : host.slice(0, dot);
}
