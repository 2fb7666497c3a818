// kill -9 of the control plane at random moments of rollouts of the example shop, with real
// processes: after each restart it adopts what runs, converges, keeps every revision intact,
// and never leaves an orphan or two live instances with one id.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { manifestHash } from '../src/domain/manifest/canonical.ts';
import type { Revision, RevisionSummary } from '../src/domain/revisions/revision.ts';
import { REPO, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { withSeed } from './support/seeded-random.ts';
import { authedFetch } from './support/api-token.ts';

const ROUNDS = 10;
const SHOP = join(REPO, 'examples/shop');
/** web 2 + orders 2 + inventory, payments, ledger, notifications 1 each. */
const INSTANCES = 8;

interface Status {
  revision: number | null;
  services: { service: string; settled: boolean; revision: number | null }[];
}

describe('kill -9 of the control plane during rollouts of the example', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let stateDir: string;
  let server: ServerProcess | undefined;
  let example: string;

  const get = async <T>(path: string) =>
    (await (await authedFetch(server!.token)(`${server!.url}${path}`)).json()) as T;
  const converged = (revision: number) =>
    eventually(
      async () => {
        const status = await get<Status>('/v1/status');
        const done =
          status.revision === revision &&
          status.services.length === 6 &&
          status.services.every((s) => s.settled && s.revision === revision);
        return done ? status : undefined;
      },
      60_000,
      `revision ${revision} converges`,
    );
  const apply = async (manifest: string) => {
    const response = await authedFetch(server!.token)(`${server!.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest, baseDir: SHOP }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { revision: { number: number } }).revision.number;
  };

  before(async () => {
    dir = await tempDir('crash-rollout');
    stateDir = join(dir.path, 'state');
    example = await readFile(join(SHOP, 'baton.yaml'), 'utf8');
  });

  after(async () => {
    await server?.stop();
    // `baton server` leaves instances running when it exits, by design: clean them up.
    for (const p of await findOwnedProcesses(stateDir)) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await eventually(
      async () => ((await findOwnedProcesses(stateDir)).length === 0 ? true : undefined),
      10_000,
      'cleanup',
    );
    await dir.remove();
  });

  it('converges after every crash, with intact history and exactly one process per instance', () =>
    withSeed(async (random) => {
      server = await startServer(stateDir);
      await converged(await apply(example));

      for (let round = 1; round <= ROUNDS; round++) {
        const doc = parseDocument(example);
        doc.setIn(['services', 'web', 'version'], `1.3.${round}`);
        doc.setIn(['services', 'notifications', 'version'], `1.0.${10 + round}`);
        const revision = await apply(doc.toString());
        // A random moment of the rollout: before, during or after its steps.
        await new Promise((resolve) => setTimeout(resolve, random.next() * 2500));
        server.child.kill('SIGKILL');
        await server.exited;

        server = await startServer(stateDir);
        await converged(revision);

        const list = await get<{ revisions: RevisionSummary[] }>('/v1/revisions?limit=500');
        assert.deepEqual(
          list.revisions.map((r) => r.number),
          Array.from({ length: revision }, (_, i) => revision - i),
        );
        for (const r of list.revisions) {
          const full = await get<Revision>(`/v1/revisions/${r.number}`);
          assert.equal(manifestHash(full.manifest), full.hash, `revision ${r.number} intact`);
        }

        // Draining instances finish stopping; then processes and registry agree exactly.
        const { owned, instances } = await eventually(
          async () => {
            const processes = await findOwnedProcesses(stateDir);
            const registered = await get<{ instances: { id: string; version: string; service: string }[] }>(
              '/v1/instances',
            );
            const same =
              processes.length === INSTANCES &&
              registered.instances.length === INSTANCES &&
              processes.every((p) => registered.instances.some((i) => i.id === p.instance));
            return same ? { owned: processes, instances: registered.instances } : undefined;
          },
          15_000,
          `round ${round}: exactly ${INSTANCES} instance processes, each a registered instance (strays stopped)`,
        );
        const ids = owned.map((p) => p.instance);
        assert.equal(new Set(ids).size, ids.length, 'never two live processes with one instance id');
        assert.ok(instances.filter((i) => i.service === 'web').every((i) => i.version === `1.3.${round}`));
      }
    }));
});
