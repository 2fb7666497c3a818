import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { manifestJsonSchema, renderManifestJsonSchema } from './json-schema.ts';
import { NAME_PATTERN } from './schema.ts';

const COMMITTED = new URL('../../../schema/baton.schema.json', import.meta.url);

interface ObjectSchema {
  properties: Record<string, unknown>;
  required?: string[];
  propertyNames?: { pattern?: string };
  additionalProperties?: unknown;
}

describe('manifest JSON Schema', () => {
  it('is committed as generated', () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    assert.ok(
      committed === renderManifestJsonSchema(),
      'schema/baton.schema.json is stale: run `npm run schema`',
    );
  });

  it('identifies itself as draft 2020-12 with an id and a title', () => {
    const schema = manifestJsonSchema();
    assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(typeof schema['$id'], 'string');
    assert.equal(schema['title'], 'Baton manifest');
  });

  it('describes what authors write: names checked, defaulted fields optional', () => {
    const schema = manifestJsonSchema() as unknown as ObjectSchema;
    assert.deepEqual(schema.required, ['name', 'services']);
    const services = schema.properties['services'] as ObjectSchema;
    assert.equal(services.propertyNames?.pattern, NAME_PATTERN.source);
    const service = services.additionalProperties as ObjectSchema;
    assert.deepEqual(service.required, ['version', 'tier']);
    assert.ok('dependsOn' in service.properties && 'instances' in service.properties);
    assert.equal(JSON.stringify(schema).includes('"format":"starts_with"'), false);
  });
});
