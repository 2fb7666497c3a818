// The JSON Schema of `baton.yaml` for editors (yaml-language-server, VS Code), derived
// from the same zod schema that validates manifests, so the two cannot disagree.
import { z } from 'zod';
import { ManifestSchema } from './schema.ts';

export const MANIFEST_SCHEMA_ID = 'urn:baton:schema:manifest';

export function manifestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ManifestSchema, {
    // What authors write: fields with defaults are optional.
    io: 'input',
    target: 'draft-2020-12',
    // Refinements (semver checks, "run or image") have no JSON Schema form; the
    // validator still enforces them.
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      // zod names its `startsWith` check as a format no editor knows; the pattern beside it says it all.
      if (jsonSchema.format === 'starts_with') delete jsonSchema.format;
    },
  });
  const { $schema, ...rest } = generated;
  return { $schema, $id: MANIFEST_SCHEMA_ID, title: 'Baton manifest', ...rest };
}

/** The committed file's exact text: 2-space JSON and a trailing newline. */
export function renderManifestJsonSchema(): string {
  return JSON.stringify(manifestJsonSchema(), null, 2) + '\n';
}
