export * from './schema.ts';
export * from './model.ts';
export * from './canonical.ts';
export { parseManifest } from './parse.ts';
export type { Locator, ParsedSource, Position } from './parse.ts';
export { manifestJsonSchema, renderManifestJsonSchema, MANIFEST_SCHEMA_ID } from './json-schema.ts';
export { MANIFEST_PROBLEM_CODES } from './problem-codes.ts';
export type { ManifestProblemCode } from './problem-codes.ts';
export { hasService, serviceOf } from './service-lookup.ts';
