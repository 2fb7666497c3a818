// kill -9 of the control plane in the middle of applies: every revision is either fully
// recorded (manifest, hash, parent, event) or absent, and history stays readable.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { manifestHash } from '../src/domain/manifest/canonical.ts';
import { parseManifest } from '../src/domain/manifest/parse.ts';
import type { Revision, RevisionSummary } from '../src/domain/revisions/revision.ts';
import { REPO, startServer, tempDir } from './support/baton-process.ts';
import { withSeed } from './support/seeded-random.ts';
import { authedFetch } from './support/api-token.ts';

const ROUNDS = 6;
const APPLIES_PER_ROUND = 12;

describe('kill -9 during apply', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let example: string;
  before(async () => {
    dir = await tempDir('crash');
    example = await readFile(join(REPO, 'examples/shop/baton.yaml'), 'utf8');
  });
  after(() => dir.remove());

  it('leaves every revision whole or absent, across repeated crashes', () =>
    withSeed(async (random) => {
      const stateDir = join(dir.path, 'state');
      let variant = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const server = await startServer(stateDir, ['--runtime', 'simulated']);
        const killAfter = random.int(APPLIES_PER_ROUND);
        const inFlight: Promise<unknown>[] = [];
        for (let i = 0; i < APPLIES_PER_ROUND; i++) {
          const request = apply(server, withNotificationsPatch(example, ++variant));
          if (i < killAfter) {
            await request;
            continue;
          }
          // Kill while this apply is on its way in, parsed, or being committed.
          inFlight.push(request.catch(() => undefined));
          server.child.kill('SIGKILL');
          break;
        }
        if (killAfter >= APPLIES_PER_ROUND) server.child.kill('SIGKILL');
        await server.exited;
        await Promise.all(inFlight);

        const restarted = await startServer(stateDir, ['--runtime', 'simulated']);
        try {
          await assertHistoryIntact(restarted);
        } finally {
          await restarted.stop();
        }
      }
    }));
});

function withNotificationsPatch(text: string, patch: number): string {
  const doc = parseDocument(text);
  doc.setIn(['services', 'notifications', 'version'], `1.0.${100 + patch}`);
  return doc.toString();
}

interface Server {
  readonly url: string;
  readonly token: string;
}

async function apply({ url, token }: Server, manifest: string): Promise<Response> {
  return authedFetch(token)(`${url}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest }),
  });
}

async function assertHistoryIntact({ url, token }: Server): Promise<void> {
  const fetch = authedFetch(token);
  const list = (await (await fetch(`${url}/v1/revisions?limit=500`)).json()) as {
    revisions: RevisionSummary[];
  };
  const numbers = list.revisions.map((r) => r.number).reverse();
  assert.deepEqual(
    numbers,
    numbers.map((_, i) => i + 1),
    'revision numbers are contiguous from 1',
  );
  const events = (await (await fetch(`${url}/v1/events?kind=revision.applied&limit=1000`)).json()) as {
    events: { revision: number }[];
  };
  const withEvent = new Set(events.events.map((e) => e.revision));
  for (const n of numbers) {
    const revision = (await (await fetch(`${url}/v1/revisions/${n}`)).json()) as Revision;
    assert.equal(revision.parent, n === 1 ? null : n - 1);
    assert.equal(
      manifestHash(revision.manifest),
      revision.hash,
      `revision ${n}: stored manifest matches its hash`,
    );
    const reparsed = parseManifest(revision.manifestText);
    assert.ok(reparsed.ok, `revision ${n}: stored text parses`);
    assert.equal(
      manifestHash(reparsed.value.manifest),
      revision.hash,
      `revision ${n}: stored text matches its hash`,
    );
    assert.ok(withEvent.has(n), `revision ${n} has its revision.applied event`);
  }
}
