import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredService, specHash } from '../reconcile/desired-service.ts';
import { validateArchitecture } from '../validate.ts';

const manifest = (probes: string) => `
name: probes
services:
  api:
    version: 1.0.0
    tier: high
    run: { command: node }
${probes}
`;

describe('readiness and liveness probes', () => {
  it('accepts readiness and liveness apart, and health alone', () => {
    for (const probes of [
      '    readiness: { http: { path: /ready } }\n    liveness: { http: { path: /live } }',
      '    liveness: { tcp: {} }',
      '    health: { http: { path: /healthz } }',
    ])
      assert.equal(validateArchitecture(manifest(probes)).ok, true, probes);
  });

  it('refuses health together with readiness or liveness, at `health`', () => {
    const result = validateArchitecture(
      manifest('    health: { http: { path: /healthz } }\n    readiness: { http: { path: /ready } }'),
    );
    assert.equal(result.ok, false);
    const problem = !result.ok ? result.problems[0] : undefined;
    assert.deepEqual(problem?.path, ['services', 'api', 'health']);
    assert.match(problem?.message ?? '', /either `health`, or `readiness` and\/or `liveness`/);
  });

  it('replaces an instance that stays unhealthy only when its probe is also its liveness', () => {
    const spec = (probes: string) => {
      const result = validateArchitecture(manifest(probes));
      assert.ok(result.ok);
      return result.value.manifest.services['api']!;
    };
    const health = spec('    health: { http: { path: /healthz } }');
    const apart = spec('    readiness: { http: { path: /ready } }');
    assert.notEqual(desiredService('api', health).unhealthyGraceMs, undefined);
    assert.equal(desiredService('api', apart).unhealthyGraceMs, undefined);
    assert.notEqual(specHash(health), specHash(apart), 'a new probe rolls the instances');
  });
});
