import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateArchitecture } from './validate.ts';

const lines = (...l: string[]) => l.join('\n') + '\n';
const summary = (text: string) => {
  const result = validateArchitecture(text, { file: 'baton.yaml' });
  assert.ok(!result.ok, 'invalid');
  return result.problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.hint ?? ''}`.trim());
};

describe('validateArchitecture', () => {
  it('reports unknown dependency targets together with schema problems, each located', () => {
    const text = lines(
      'name: shop',
      'services:',
      '  web:',
      '    version: 1.0.0',
      '    tier: hgh',
      '    run: { command: node }',
      '    dependsOn:',
      '      ordrs: ^1.0.0',
      '      mail: { range: ^1.0.0, optional: true }',
      '  orders:',
      '    version: 1.0.0',
      '    tier: high',
      '    run: { command: node }',
    );
    assert.deepEqual(summary(text), [
      '5:11 invalid-value did you mean `high`?',
      '8:14 unknown-dependency did you mean `orders`?',
      '9:13 optional-dependency-absent declare `mail` under services or remove the dependency',
    ]);
  });

  it('says how to write a version that YAML read as a number', () => {
    const text = lines(
      'name: shop',
      'services:',
      '  web:',
      '    version: 3.2',
      '    tier: high',
      '    run: { command: node }',
    );
    assert.deepEqual(summary(text), [
      '4:14 invalid-type a version has three parts (major.minor.patch): write 3.2.0; YAML reads 3.2 as a number',
    ]);
  });

  it('points at a key without its colon', () => {
    const text = lines('name: shop', 'services:', '  web:', '    version 1.0.0', '    tier: high');
    assert.deepEqual(summary(text), ['4:5 yaml-syntax a key needs a colon: write `version: 1.0.0`']);
  });
});
