// Multi-process mode: a primary and two workers, each a full gateway with its own snapshot
// subscription, all on one port; metrics summed over workers on the primary's admin port;
// a graceful stop that leaves no worker behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { send, startUpstream, until } from './support.ts';

describe('gateway cluster', () => {
  it('serves from every worker on one port and stops them all', { timeout: 60_000 }, async () => {
    const upstream = await startUpstream('u');
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/cluster-gateway.ts'), String(upstream.port)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const ready = await until('the cluster', () => lines.find((l) => 'ready' in l), 30_000);
      const url = String(ready.ready);
      const workers = ready.pids as number[];
      assert.equal(workers.length, 2);

      // A new connection per request: the primary deals connections out to the workers.
      for (let i = 0; i < 40; i++) {
        const r = await send(`${url}/`, { headers: { connection: 'close' } });
        assert.equal(r.status, 200);
      }
      const served = await until('access-log lines from both workers', () => {
        const pids = new Set(lines.filter((l) => l.msg === 'request').map((l) => l.pid));
        return pids.size === 2 ? pids : undefined;
      });
      assert.deepEqual([...served].sort(), [...workers].sort());

      const metrics = (await send(`${String(ready.admin)}/metrics`)).text;
      const total = metrics
        .split('\n')
        .filter((l) => l.startsWith('baton_gateway_requests_total{'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      assert.equal(total, 40, 'the primary sums the workers’ counters');

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'worker exited');
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
