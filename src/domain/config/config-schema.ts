// What a service declares about its config in the manifest (`config.schema`): a JSON Schema
// subset, flat like environment variables. Each key may say `restart: true`: a change to it
// reaches instances by a rolling restart instead of a push (a pool size read once at start).
import { z } from 'zod';

export const ConfigKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, {
  error: 'config keys are letters, digits, `_`, `.` and `-`, starting with a letter or `_`',
});

export const ConfigValue = z.union([z.string().max(64 * 1024), z.number(), z.boolean()]);
export type ConfigValue = z.infer<typeof ConfigValue>;
export type ConfigValues = Readonly<Record<string, ConfigValue>>;

const PropertySchema = z
  .strictObject({
    type: z.enum(['string', 'number', 'integer', 'boolean']),
    description: z.string().optional(),
    enum: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional(),
    pattern: z.string().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    restart: z
      .boolean()
      .default(false)
      .describe('A change restarts the instances (rolling) instead of being pushed to them.'),
  })
  .refine((p) => p.pattern === undefined || isRegExp(p.pattern), {
    error: 'pattern is not a valid regular expression',
  });

export const ServiceConfigSchema = z
  .strictObject({
    schema: z
      .strictObject({
        properties: z.record(ConfigKey, PropertySchema),
        required: z.array(ConfigKey).default([]),
        additionalProperties: z
          .boolean()
          .default(true)
          .describe('false: a release giving this service a key the schema does not list is refused.'),
      })
      .optional(),
    secrets: z
      .enum(['restart', 'push'])
      .default('restart')
      .describe(
        'How a rotated secret its env refers to reaches its instances: `restart` (rolling; the environment is read once) or `push` (the new value in its config file, `secrets`, with no restart).',
      ),
  })
  .describe('The config this service reads (see docs/config.md): a release breaking its schema is refused.');

export type ServiceConfig = z.output<typeof ServiceConfigSchema>;
export type ConfigSchema = NonNullable<ServiceConfig['schema']>;

/** Every way `values` breaks `schema`: `[key, message]`, in key order. */
export function schemaViolations(values: ConfigValues, schema: ConfigSchema): [string, string][] {
  const problems: [string, string][] = [];
  for (const key of schema.required) if (values[key] === undefined) problems.push([key, 'is required']);
  for (const [key, value] of Object.entries(values)) {
    const property = schema.properties[key];
    if (property === undefined) {
      if (!schema.additionalProperties) problems.push([key, 'is not in the schema']);
      continue;
    }
    const wrong = violation(value, property);
    if (wrong) problems.push([key, wrong]);
  }
  return problems.sort((a, b) => a[0].localeCompare(b[0]));
}

function violation(value: ConfigValue, p: ConfigSchema['properties'][string]): string | undefined {
  const got = `${JSON.stringify(value)}`;
  if (p.type === 'boolean' && typeof value !== 'boolean') return `must be a boolean, got ${got}`;
  if ((p.type === 'number' || p.type === 'integer') && typeof value !== 'number')
    return `must be a number, got ${got}`;
  if (p.type === 'integer' && !Number.isInteger(value)) return `must be an integer, got ${got}`;
  if (p.type === 'string' && typeof value !== 'string') return `must be a string, got ${got}`;
  if (p.enum && !p.enum.includes(value))
    return `must be one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${got}`;
  if (typeof value === 'number' && p.minimum !== undefined && value < p.minimum)
    return `must be at least ${p.minimum}, got ${got}`;
  if (typeof value === 'number' && p.maximum !== undefined && value > p.maximum)
    return `must be at most ${p.maximum}, got ${got}`;
  if (typeof value === 'string' && p.pattern !== undefined && !new RegExp(p.pattern, 'u').test(value))
    return `must match /${p.pattern}/, got ${got}`;
  return undefined;
}

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
