// PostgreSQL restarted under a running control plane, mid-rollout: the control plane stays up
// (no unhandled rejection ends it), answers 503 store-unavailable while the database is down,
// and converges on the new revision once it is back. A private cluster, never the shared one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { REPO, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.ts';
import { authedFetch } from './support/api-token.ts';

const manifest = (version: string) => `
name: restart
services:
  api:
    version: ${version}
    tier: high
    instances: 3
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 10s }
    rollout: { maxSurge: 1, maxUnavailable: 0, deadline: 3m }
`;

interface Status {
  revision: number | null;
  services: { service: string; settled: boolean; revision: number | null; version?: string }[];
}

describe('PostgreSQL restarted mid-rollout', () => {
  let postgres: PrivatePostgres;
  let dir: { path: string; remove: () => Promise<void> };
  let server: ServerProcess;
  let stderr = '';

  before(async () => {
    postgres = await startPrivatePostgres();
    dir = await tempDir('pg-restart');
    server = await startServer(join(dir.path, 'state'), ['--store', postgres.url, '--log-level', 'warn']);
    server.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  });
  after(async () => {
    await server?.stop();
    // `baton server` leaves its instances serving when it exits: stop them, or they outlive the test.
    for (const { pid } of await findOwnedProcesses(join(dir.path, 'state'))) process.kill(pid, 'SIGKILL');
    await dir?.remove();
    await postgres?.remove();
  });

  const apply = async (text: string) => {
    const response = await authedFetch(server.token)(`${server.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: text, baseDir: REPO }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { revision: { number: number } }).revision.number;
  };
  const converged = (revision: number) =>
    eventually(
      async () => {
        assert.equal(server.child.exitCode, null, `the control plane died:\n${stderr}`);
        const status = (await (await authedFetch(server.token)(`${server.url}/v1/status`)).json()) as Status;
        // Not before the controller has recorded a state (an empty list is vacuously settled).
        const done =
          status.revision === revision &&
          status.services.length > 0 &&
          status.services.every((s) => s.settled && s.revision === revision);
        return done ? status : undefined;
      },
      { timeoutMs: 90_000, what: `revision ${revision} converges` },
    );

  it('stays up, answers 503 meanwhile, and converges once the database is back', async () => {
    await converged(await apply(manifest('1.0.0')));
    const second = await apply(manifest('1.1.0'));
    await postgres.stop();
    // The outage is seen: a request that needs the store is refused as retryable, not a 500.
    const refused = await eventually(
      async () => {
        assert.equal(server.child.exitCode, null, `the control plane died:\n${stderr}`);
        const response = await authedFetch(server.token)(`${server.url}/v1/revisions`);
        return response.status === 503 ? ((await response.json()) as { code: string }) : undefined;
      },
      { timeoutMs: 20_000, what: 'a 503 while PostgreSQL is down' },
    );
    assert.equal(refused.code, 'store-unavailable');
    await postgres.start();
    await converged(second);
    assert.equal(server.child.exitCode, null, `the control plane is still running\n${stderr}`);
    assert.doesNotMatch(stderr, /unhandled|UnhandledPromiseRejection/i);
    // The status shows the services settled a moment before the controller writes its event.
    await eventually(
      async () => {
        const events = (await (
          await authedFetch(server.token)(`${server.url}/v1/events?kind=revision.converged`)
        ).json()) as {
          events: { revision: number }[];
        };
        return events.events.some((e) => e.revision === second) ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the convergence is recorded' },
    );
  });
});
