import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateArchitecture } from '../validate.ts';
import { checkFixedPorts } from './fixed-ports.ts';

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

// Whether these apply depends on the runtime (instances sharing one address): the runtime's
// admission runs them (src/engines/revisions/admission.test.ts), not offline validation.
function problemsOf(web: string, admin: string) {
  const result = validateArchitecture(manifest(web, admin));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return checkFixedPorts(result.value.manifest);
}

describe('fixed ports', () => {
  it('refuses two services declaring the same fixed port, pointing at the second', () => {
    const problems = problemsOf(
      '    ports: [{ name: http, port: 8080 }]',
      '    ports: [{ name: http, port: 8080 }]',
    );
    const problem = problems.find((p) => p.code === 'fixed-port-shared');
    assert.ok(problem);
    assert.deepEqual(problem.path, ['services', 'web', 'ports', 0, 'port']);
    assert.match(problem.message, /web and admin both declare fixed port 8080/);
  });

  it('refuses a fixed port on a service that may run two instances', () => {
    const problems = problemsOf(
      '    instances: { min: 1, max: 2 }\n    ports: [{ name: http, port: 8080 }]',
      '',
    );
    assert.ok(problems.some((p) => p.code === 'fixed-port-replicas'));
  });

  it('accepts distinct fixed ports on single instances, and allocated ports anywhere', () => {
    assert.deepEqual(
      problemsOf('    ports: [{ name: http, port: 8080 }]', '    instances: 3\n    ports: [{ name: http }]'),
      [],
    );
  });
});
