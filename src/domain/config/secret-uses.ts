// Which services a config set hands a secret to: a value holding `${secret:NAME}` in a scope
// that reaches them (global reaches every service). Their instances get it resolved in their
// environment at start, so a rotation must reach them as it reaches the services whose
// manifest env refers to it.
import type { ConfigSet } from './config-set.ts';
import type { ConfigValues } from './config-schema.ts';

export function servicesGivenSecret(set: ConfigSet, services: readonly string[], secret: string): string[] {
  const reference = `\${secret:${secret}}`;
  const holds = (values: ConfigValues | undefined) =>
    Object.values(values ?? {}).some((value) => typeof value === 'string' && value.includes(reference));
  if (holds(set.global)) return [...services].sort();
  const given = new Set<string>();
  for (const service of services) {
    if (holds(set.services[service])) given.add(service);
    for (const [scope, values] of Object.entries(set.versions))
      if (scope.startsWith(`${service}@`) && holds(values)) given.add(service);
    for (const [scope, group] of Object.entries(set.groups))
      if (scope.startsWith(`${service}/`) && holds(group.values)) given.add(service);
  }
  return [...given].sort();
}

/** The secret names a config set's values refer to for one service (any scope that may reach it). */
export function secretsGivenTo(set: ConfigSet, service: string): string[] {
  const names = new Set<string>();
  const scan = (values: ConfigValues | undefined) => {
    for (const value of Object.values(values ?? {}))
      if (typeof value === 'string')
        for (const m of value.matchAll(/\$\{secret:([^}]*)\}/g)) names.add(m[1]!);
  };
  scan(set.global);
  scan(set.services[service]);
  for (const [scope, values] of Object.entries(set.versions))
    if (scope.startsWith(`${service}@`)) scan(values);
  for (const [scope, group] of Object.entries(set.groups))
    if (scope.startsWith(`${service}/`)) scan(group.values);
  return [...names].sort();
}
