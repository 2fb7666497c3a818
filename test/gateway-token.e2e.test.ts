// Finding 2's other half: the gateway `baton up` starts faces the internet, so it holds a
// gateway token (snapshots, their watch, spans), never the admin's, and no way to the
// state folder where the admin token is.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bearer } from './support/api-token.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { startUp, type UpProcess } from './support/baton-up.ts';
import { eventually } from './support/eventually.ts';

/** The environment of the child of `parent` whose command line says `gateway`. */
async function gatewayChildEnvironment(parent: number): Promise<Map<string, string>> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parent) continue;
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!cmdline.includes('gateway')) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
    return new Map(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  }
  throw new Error(`no gateway child of ${parent}`);
}

describe("baton up's gateway", () => {
  let up: UpProcess;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await tempDir('gateway-token');
    up = await startUp(join(REPO, 'examples/shop/baton.yaml'), join(dir.path, 'state'), [
      '--runtime',
      'simulated',
      '--gateway',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ]);
  });
  after(async () => {
    await up?.stop();
    await dir?.remove();
  });

  it('holds a gateway token, not the admin one, and no path to the state folder', async () => {
    const env = await eventually(() => gatewayChildEnvironment(up.pid), 20_000, 'the gateway child');
    const token = env.get('BATON_TOKEN');
    assert.ok(token, 'the gateway has a token');
    assert.notEqual(token, up.token, 'not the admin token');
    assert.equal(env.get('BATON_STATE_DIR'), undefined);
    for (const [name, value] of env) assert.ok(!value.includes(up.token), `${name} holds the admin token`);

    const asGateway = bearer(token);
    assert.equal((await fetch(`${up.url}/v1/gateway/snapshot`, { headers: asGateway })).status, 200);
    const apply = await fetch(`${up.url}/v1/apply`, {
      method: 'POST',
      headers: { ...asGateway, 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: 'name: x\nservices: {}\n' }),
    });
    assert.equal(apply.status, 403);
    assert.equal((await fetch(`${up.url}/v1/revisions`, { headers: asGateway })).status, 403);
  });

  it("records baton up's own apply in the audit trail, under the bootstrap admin", async () => {
    const response = await fetch(`${up.url}/v1/audit?action=apply`, { headers: bearer(up.token) });
    assert.equal(response.status, 200);
    const { events } = (await response.json()) as {
      events: { actor: string; data: { status: number; path: string } }[];
    };
    assert.deepEqual(
      events.map((e) => [e.actor, e.data.path, e.data.status]),
      [['admin', 'baton up', 201]],
    );
  });
});
