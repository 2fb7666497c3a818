// A service of a manifest by a name that may come from the network. `services` is a plain
// object: `services['constructor']` is Object's constructor, not undefined, and a service
// that does not exist would pass an existence check. Only own properties are services.
import type { Manifest, ServiceSpec } from './model.ts';

export function serviceOf(manifest: Manifest | undefined, name: string): ServiceSpec | undefined {
  return manifest !== undefined && Object.hasOwn(manifest.services, name)
    ? manifest.services[name]
    : undefined;
}

export function hasService(manifest: Manifest | undefined, name: string): boolean {
  return manifest !== undefined && Object.hasOwn(manifest.services, name);
}
