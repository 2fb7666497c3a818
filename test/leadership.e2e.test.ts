// One writer per state, with real `baton server` processes: a second one on the same state
// refuses at once, naming the first; once the first is killed -9, the next takes over.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';
import { authedFetch } from './support/api-token.ts';

describe('one control plane per state', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const servers: ServerProcess[] = [];
  before(async () => {
    dir = await tempDir('leadership');
  });
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await dir.remove();
  });

  it('refuses a second server at once, naming the first; takes over after the first dies', async () => {
    const stateDir = join(dir.path, 'state');
    const first = await startServer(stateDir, ['--runtime', 'simulated']);
    servers.push(first);

    const started = performance.now();
    const second = await runCli([
      'server',
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      stateDir,
      '--runtime',
      'simulated',
    ]);
    const refusedAfterMs = performance.now() - started;
    assert.equal(second.code, 3, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`in use by another control plane: pid ${first.child.pid} on \\S+, ${first.url}`),
    );
    assert.match(second.stderr, new RegExp(`hint: stop it first \\(Ctrl-C, or kill ${first.child.pid}\\)`));
    assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
    // Measured, not asserted (the machine is shared): issue 12 asks for < 2 s.
    console.error(`second server refused after ${Math.round(refusedAfterMs)} ms (process start included)`);

    // The same through the URL form of --store.
    const byUrl = await runCli([
      'server',
      '--listen',
      '127.0.0.1:0',
      '--store',
      `sqlite:${join(stateDir, 'state.db')}`,
    ]);
    assert.equal(byUrl.code, 3, byUrl.stderr);
    assert.match(byUrl.stderr, /in use by another control plane/);

    await first.stop('SIGKILL');
    const third = await startServer(stateDir, ['--runtime', 'simulated']);
    servers.push(third);
    const status = await authedFetch(third.token)(`${third.url}/v1/status`);
    assert.equal(status.status, 200);
  });
});
