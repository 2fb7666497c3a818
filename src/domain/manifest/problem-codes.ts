// Every code parseManifest can return. Codes are stable: tools and tests match on them,
// so a new situation gets a new code rather than a reworded old one.
export const MANIFEST_PROBLEM_CODES = {
  'manifest-too-large': 'The text is over the size limit (UTF-8 bytes); nothing else was checked.',
  'yaml-syntax': 'The text is not valid YAML, or an alias names an anchor that does not exist.',
  'yaml-warning': 'YAML the parser accepted with a warning, such as an unknown tag (severity warning).',
  'yaml-alias-limit': 'Aliases expand the document past the limits that guard against alias bombs.',
  'duplicate-key': 'A mapping has the same key twice.',
  'empty-manifest': 'The document is empty.',
  'not-a-mapping': 'The top level is a list or a single value instead of a mapping.',
  'too-many-services': 'More services than the limit.',
  'too-many-dependencies': 'A service has more dependsOn entries than the limit.',
  'unknown-key': 'A key the schema does not allow at that place; the hint suggests the closest allowed one.',
  'missing-field': 'A required field is absent; placed at the mapping that lacks it.',
  'invalid-type': 'A value of the wrong kind (a string where a number belongs, a list for a mapping).',
  'invalid-value': 'A value outside the allowed ones (an enum, a semver version or range).',
  'invalid-format': 'A string in the wrong format (a duration, a size, a path).',
  'invalid-name': 'A name that is not a DNS label: a service, a dependency target, a port or a volume.',
  'invalid-key': 'A mapping key in the wrong format, such as an environment variable name.',
  'invalid-combination': 'Fields that are fine alone but not together (min above max, two probes).',
  'too-small': 'A number, string or list below its minimum.',
  'too-large': 'A number, string or list above its maximum.',
  'more-problems':
    'The first problems are listed; this one counts the rest, which were not looked at in detail.',
} as const;

export type ManifestProblemCode = keyof typeof MANIFEST_PROBLEM_CODES;
