import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateArchitecture } from '../validate.ts';

const manifest = (web: string, admin: string) => `
name: ports
services:
  web:
    version: 1.0.0
    tier: high
    run: { command: node }
${web}
  admin:
    version: 1.0.0
    tier: low
    run: { command: node }
${admin}
`;

describe('fixed ports', () => {
  it('refuses two services declaring the same fixed port, pointing at the second', () => {
    const result = validateArchitecture(
      manifest('    ports: [{ name: http, port: 8080 }]', '    ports: [{ name: http, port: 8080 }]'),
      { file: 'baton.yaml' },
    );
    assert.equal(result.ok, false);
    const problem = !result.ok ? result.problems.find((p) => p.code === 'fixed-port-shared') : undefined;
    assert.ok(problem);
    assert.deepEqual(problem.path, ['services', 'web', 'ports', 0, 'port']);
    assert.match(problem.message, /web and admin both declare fixed port 8080/);
    assert.equal(problem.line, 8);
  });

  it('refuses a fixed port on a service that may run two instances', () => {
    const result = validateArchitecture(
      manifest('    instances: { min: 1, max: 2 }\n    ports: [{ name: http, port: 8080 }]', ''),
    );
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problems.some((p) => p.code === 'fixed-port-replicas'));
  });

  it('accepts distinct fixed ports on single instances, and allocated ports anywhere', () => {
    const result = validateArchitecture(
      manifest('    ports: [{ name: http, port: 8080 }]', '    instances: 3\n    ports: [{ name: http }]'),
    );
    assert.equal(result.ok, true, JSON.stringify(!result.ok && result.problems));
  });
});
