// A config set: what a config release holds, by scope. Instances get the merge of the scopes
// that apply to them, later ones winning (docs/config.md):
//   global → services.<service> → versions.<service>@<version> → groups.<service>/<group>
// A group names instances by id: the scope for one-off differences (one instance with more
// logging). Released and versioned apart from revisions: a config change is not an
// architecture change, and restarts nothing unless a key says so.
import { z } from 'zod';
import { ConfigKey, ConfigValue, type ConfigValues } from './config-schema.ts';

const Values = z.record(ConfigKey, ConfigValue);
const SERVICE = '[a-z]([a-z0-9-]{0,61}[a-z0-9])?';

export const ConfigSetSchema = z.strictObject({
  global: Values.default({}),
  services: z
    .record(z.string().regex(new RegExp(`^${SERVICE}$`), { error: 'must be a service name' }), Values)
    .default({}),
  versions: z
    .record(
      z.string().regex(new RegExp(`^${SERVICE}@[0-9A-Za-z.+-]+$`), {
        error: 'must be <service>@<version>, e.g. orders@2.1.0',
      }),
      Values,
    )
    .default({}),
  groups: z
    .record(
      z.string().regex(new RegExp(`^${SERVICE}/[a-z0-9-]+$`), {
        error: 'must be <service>/<group>, e.g. orders/debug',
      }),
      z.strictObject({ instances: z.array(z.string().min(1)).min(1), values: Values }),
    )
    .default({}),
});

export type ConfigSet = z.output<typeof ConfigSetSchema>;

export const EMPTY_CONFIG_SET: ConfigSet = { global: {}, services: {}, versions: {}, groups: {} };

export interface ConfigTarget {
  readonly service: string;
  readonly version: string;
  /** Absent for "any instance of this version" (release checks). */
  readonly instance?: string | undefined;
}

export function effectiveConfig(set: ConfigSet, target: ConfigTarget): ConfigValues {
  const groups = Object.entries(set.groups)
    .filter(
      ([name, group]) =>
        name.startsWith(`${target.service}/`) &&
        target.instance !== undefined &&
        group.instances.includes(target.instance),
    )
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, group]) => group.values);
  return Object.assign(
    {},
    set.global,
    set.services[target.service],
    set.versions[`${target.service}@${target.version}`],
    ...groups,
  );
}

/** Every scope and key as one flat map (`services.orders.TIMEOUT`), for diffs. */
export function flattenConfigSet(set: ConfigSet): Map<string, ConfigValue> {
  const flat = new Map<string, ConfigValue>();
  const add = (prefix: string, values: ConfigValues) => {
    for (const [key, value] of Object.entries(values)) flat.set(`${prefix}.${key}`, value);
  };
  add('global', set.global);
  for (const [service, values] of Object.entries(set.services)) add(`services.${service}`, values);
  for (const [scope, values] of Object.entries(set.versions)) add(`versions.${scope}`, values);
  for (const [scope, group] of Object.entries(set.groups)) add(`groups.${scope}`, group.values);
  return flat;
}

export interface ConfigChange {
  readonly key: string;
  readonly from?: ConfigValue | undefined;
  readonly to?: ConfigValue | undefined;
}

export function diffConfigSets(a: ConfigSet, b: ConfigSet): ConfigChange[] {
  const before = flattenConfigSet(a);
  const after = flattenConfigSet(b);
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys
    .filter((key) => before.get(key) !== after.get(key))
    .map((key) => ({
      key,
      ...(before.has(key) ? { from: before.get(key) } : {}),
      ...(after.has(key) ? { to: after.get(key) } : {}),
    }));
}

/** The keys whose effective value differs between two sets for one target. */
export function changedKeys(a: ConfigSet, b: ConfigSet, target: ConfigTarget): string[] {
  const before = effectiveConfig(a, target);
  const after = effectiveConfig(b, target);
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => before[k] !== after[k])
    .sort();
}
