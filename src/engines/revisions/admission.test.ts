import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateArchitecture } from '../../domain/validate.ts';
import type { Runtime } from '../../ports/runtime.ts';
import { runtimeAdmission } from './admission.ts';

// Three instances of one fixed port, and a second service on the same port: impossible for
// local processes (one address), ordinary for containers (an address each).
const MANIFEST = `name: ports
services:
  api:
    version: 1.0.0
    tier: high
    image: api:1
    instances: 3
    ports: [{ name: http, port: 8080 }]
  admin:
    version: 1.0.0
    tier: low
    image: admin:1
    ports: [{ name: http, port: 8080 }]
`;

function manifest() {
  const validation = validateArchitecture(MANIFEST);
  assert.ok(validation.ok, 'the manifest itself is valid: fixed ports depend on the runtime');
  return validation.value.manifest;
}

const runtime = (addressing: Runtime['addressing']): Pick<Runtime, 'admit' | 'addressing'> => ({
  addressing,
  admit: () => Promise.resolve([]),
});

describe('fixed ports at admission', () => {
  it('are refused where instances share one address', async () => {
    const problems = await runtimeAdmission(runtime('shared'), '/')(manifest(), undefined);
    assert.deepEqual(problems.map((p) => p.code).sort(), ['fixed-port-replicas', 'fixed-port-shared']);
  });

  it('are free where each instance has an address of its own', async () => {
    assert.deepEqual(await runtimeAdmission(runtime('per-instance'), '/')(manifest(), undefined), []);
  });
});
