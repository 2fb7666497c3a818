// Operator intents are durable and audited: `baton scale`, then kill -9 of the control plane
// and a new one on the same state — the scale holds (no fall back to the manifest's minimum),
// and the event log names who scaled.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import type { StoredEvent } from '../src/ports/store.ts';
import { REPO, runCli, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { authedFetch } from './support/api-token.ts';

const MANIFEST = `
name: scaled
services:
  api:
    version: 1.0.0
    tier: high
    instances: { min: 1, max: 4 }
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts], cwd: ${REPO} }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 5s }
`;

interface Status {
  services: { service: string; desired: number; ready: number; settled: boolean }[];
  instances: { id: string; phase: string }[];
}

describe('operator intents survive kill -9 of the control plane', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let stateDir: string;
  let server: ServerProcess | undefined;
  const status = async () =>
    (await (await authedFetch(server!.token)(`${server!.url}/v1/status`)).json()) as Status;
  const cli = (...args: string[]) =>
    runCli(['--server', server!.url, ...args], { BATON_TOKEN: server!.token });

  before(async () => {
    dir = await tempDir('intents');
    stateDir = join(dir.path, 'state');
    server = await startServer(stateDir);
  });
  after(async () => {
    await server?.stop();
    for (const p of await findOwnedProcesses(stateDir)) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await dir?.remove();
  });

  it('keeps a scale across kill -9 and restart, and records who scaled', async () => {
    const file = join(dir.path, 'baton.yaml');
    await writeFile(file, MANIFEST);
    const applied = await cli('apply', '-f', file);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const scaled = await cli('scale', 'api', '3');
    assert.equal(scaled.code, 0, scaled.stderr);
    await eventually(
      async () => {
        const api = (await status()).services.find((s) => s.service === 'api');
        return api?.desired === 3 && api.ready === 3 && api.settled;
      },
      20_000,
      'api scaled to 3',
    );

    server!.child.kill('SIGKILL');
    await server!.exited;
    server = await startServer(stateDir);
    // The new control plane adopts the three and, knowing the scale, keeps them.
    const after = await eventually(
      async () => {
        const s = await status();
        const api = s.services.find((x) => x.service === 'api');
        return api?.settled && api.ready === 3 ? api : undefined;
      },
      20_000,
      'api settled again after the restart',
    );
    assert.equal(after.desired, 3, 'the scale held; the manifest alone says 1');
    const running = (await status()).instances.filter((i) => i.phase === 'running');
    assert.equal(running.length, 3);

    const events = (await (
      await authedFetch(server!.token)(`${server!.url}/v1/events?kind=operator.scale`)
    ).json()) as {
      events: StoredEvent[];
    };
    assert.equal(events.events.length, 1);
    assert.equal(events.events[0]!.actor, 'admin', "the token's identity, whatever the client claims");
    assert.equal(events.events[0]!.service, 'api');
    assert.deepEqual(events.events[0]!.data, { replicas: 3 });
  });
});
