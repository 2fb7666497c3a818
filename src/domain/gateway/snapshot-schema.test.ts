import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeManifest } from '../manifest/model.ts';
import { ManifestSchema } from '../manifest/schema.ts';
import { resolveGateway } from './resolve.ts';
import { parseGatewaySnapshot } from './snapshot-schema.ts';
import type { GatewaySnapshot } from './snapshot.ts';

function snapshotFromManifest(): GatewaySnapshot {
  const manifest = normalizeManifest(
    ManifestSchema.parse({
      name: 'shop',
      gateway: { shedding: { maxInFlight: 100 } },
      services: {
        api: {
          version: '1.0.0',
          tier: 'critical',
          run: { command: 'node' },
          routes: [{ path: '/api', rateLimit: { requestsPerSecond: 5, key: { header: 'X-Key' } } }],
          traffic: { loadBalancing: { hash: { cookie: 'session' } } },
        },
      },
    }),
  );
  const resolved = resolveGateway(manifest);
  return {
    revision: 3,
    sequence: 17,
    settings: resolved.settings,
    routes: resolved.routes,
    services: {
      api: {
        ...resolved.services.api!,
        endpoints: [{ instanceId: 'api-1', address: '127.0.0.1', port: 4000, version: '1.0.0' }],
        split: { weights: { '1.0.0': 100 }, setBy: 'alice', since: '2026-01-01T00:00:00Z' },
      },
    },
    faults: [
      {
        id: 'f1',
        service: 'api',
        path: '/api/slow',
        delay: { ms: 100, percent: 10 },
        expiresAt: '2026-01-01T01:00:00Z',
        createdBy: 'alice',
      },
    ],
  };
}

describe('parseGatewaySnapshot', () => {
  it('accepts what the control plane builds from a manifest, unchanged', () => {
    const snapshot = snapshotFromManifest();
    const parsed = parseGatewaySnapshot(JSON.parse(JSON.stringify(snapshot)));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.snapshot, snapshot);
  });

  it('ignores fields a newer control plane adds', () => {
    const parsed = parseGatewaySnapshot({ ...snapshotFromManifest(), future: { x: 1 } });
    assert.ok(parsed.ok);
    assert.equal('future' in parsed.snapshot, false);
  });

  it('rejects a malformed snapshot with every problem named', () => {
    const bad = snapshotFromManifest() as unknown as Record<string, unknown>;
    bad.sequence = -1;
    (bad.routes as Record<string, unknown>[])[0]!.path = 'no-slash';
    const parsed = parseGatewaySnapshot(bad);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) {
      assert.match(parsed.error, /sequence/);
      assert.match(parsed.error, /path/);
    }
    assert.equal(parseGatewaySnapshot('not an object').ok, false);
  });
});
