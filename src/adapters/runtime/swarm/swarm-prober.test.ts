import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Prober } from '../../../ports/prober.ts';
import { SwarmProber } from './swarm-prober.ts';

describe('swarm prober', () => {
  const network: Prober = { probe: async () => ({ ok: true, detail: 'HTTP 200', durationMs: 1 }) };

  it('probes http and tcp from this machine', async () => {
    const prober = new SwarmProber(network);
    const target = { kind: 'http' as const, address: '10.77.0.12', port: 33000, path: '/healthz' };
    assert.deepEqual(await prober.probe(target, 1_000), { ok: true, detail: 'HTTP 200', durationMs: 1 });
  });

  it('fails a command probe saying why, never running it here', async () => {
    const prober = new SwarmProber({ probe: () => assert.fail('no command runs on this machine') });
    const result = await prober.probe(
      { kind: 'command', command: 'pg_isready', args: [], cwd: '/', env: {}, instance: 'db-1' },
      1_000,
    );
    assert.equal(result.ok, false);
    assert.match(result.detail, /command probes cannot run on the swarm runtime/);
  });
});
