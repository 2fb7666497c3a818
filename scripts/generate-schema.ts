// Writes schema/baton.schema.json from the zod manifest schema (`npm run schema`).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderManifestJsonSchema } from '../src/domain/manifest/json-schema.ts';

const file = fileURLToPath(new URL('../schema/baton.schema.json', import.meta.url));
writeFileSync(file, renderManifestJsonSchema());
console.log(`wrote ${file}`);
