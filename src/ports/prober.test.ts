import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HEALTH, type HealthSpec } from '../domain/health/health-tracker.ts';
import { probeTarget } from './prober.ts';
import type { RunningInstance } from './runtime.ts';

const instance: RunningInstance = {
  id: 'orders-abc123',
  service: 'orders',
  version: '1.0.0',
  revision: 1,
  address: '10.0.0.7',
  port: 8080,
  ports: { http: 8080, admin: 9090 },
  node: 'local',
  startedAt: '2026-01-01T00:00:00.000Z',
};
const env = { PORT: '8080' };
const health = (probe: Partial<HealthSpec>): HealthSpec => ({ ...DEFAULT_HEALTH, ...probe });

describe('probeTarget', () => {
  it('connects to the primary port when the manifest names no probe', () => {
    const tcp = { ok: true, target: { kind: 'tcp', address: '10.0.0.7', port: 8080 } };
    assert.deepEqual(probeTarget(undefined, instance, '/srv', env), tcp);
    assert.deepEqual(probeTarget(DEFAULT_HEALTH, instance, '/srv', env), tcp);
  });

  it('probes HTTP on the primary port or on a named one', () => {
    assert.deepEqual(probeTarget(health({ http: { path: '/ready' } }), instance, '/srv', env), {
      ok: true,
      target: { kind: 'http', address: '10.0.0.7', port: 8080, path: '/ready' },
    });
    assert.deepEqual(
      probeTarget(health({ http: { path: '/healthz', port: 'admin' } }), instance, '/srv', env),
      {
        ok: true,
        target: { kind: 'http', address: '10.0.0.7', port: 9090, path: '/healthz' },
      },
    );
  });

  it('accepts a port number as well as a name', () => {
    assert.deepEqual(probeTarget(health({ tcp: { port: '7000' } }), instance, '/srv', env), {
      ok: true,
      target: { kind: 'tcp', address: '10.0.0.7', port: 7000 },
    });
  });

  it('reports a port the instance does not have instead of guessing one', () => {
    for (const port of ['metrics', '0', '70000', 'constructor']) {
      const resolved = probeTarget(health({ tcp: { port } }), instance, '/srv', env);
      assert.equal(resolved.ok, false, port);
      assert.match(resolved.ok ? '' : resolved.detail, new RegExp(`"${port}".*ports: http, admin`));
    }
  });

  it('runs a command probe in the given directory and environment', () => {
    assert.deepEqual(
      probeTarget(health({ command: { command: './check', args: ['--quick'] } }), instance, '/srv', env),
      {
        ok: true,
        target: {
          kind: 'command',
          command: './check',
          args: ['--quick'],
          cwd: '/srv',
          env,
          instance: instance.id,
        },
      },
    );
  });
});
