// A second `baton up` on the state of the first (as a second `npm start`): it brings the
// architecture back, prints its URLs once every service serves (it used to wait forever for
// a convergence the first run had recorded), and Ctrl-C stops it without an error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { BATON_BIN, REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const MANIFEST = `
name: again
services:
  db:
    version: 1.0.0
    tier: critical
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts], cwd: ${REPO} }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms }
  api:
    version: 1.0.0
    tier: high
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts], cwd: ${REPO} }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms }
    dependsOn: { db: ^1.0.0 }
`;

/** `baton up` until it prints its dashboard's URL (it has converged), then Ctrl-C. */
async function upUntilReady(
  file: string,
  stateDir: string,
): Promise<{ output: string; code: number | null }> {
  const child = spawn(
    process.execPath,
    [BATON_BIN, 'up', '-f', file, '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--no-gateway'],
    { cwd: REPO, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await eventually(
      () => /Dashboard: http:\/\//.test(output) || child.exitCode !== null,
      60_000,
      'baton up converges',
    );
  } finally {
    child.kill('SIGINT');
  }
  return { output, code: await exited };
}

describe('baton up, a second time on the same state', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => (dir = await tempDir('up-again')));
  after(async () => {
    for (const { pid } of await findOwnedProcesses(join(dir.path, 'state'))) process.kill(pid, 'SIGKILL');
    await dir.remove();
  });

  it('converges again, prints its URLs, and stops cleanly on Ctrl-C', async () => {
    const file = join(dir.path, 'baton.yaml');
    await writeFile(file, MANIFEST);
    const state = join(dir.path, 'state');
    const first = await upUntilReady(file, state);
    assert.equal(first.code, 0, first.output);
    const second = await upUntilReady(file, state);
    assert.match(second.output, /Dashboard: http:\/\//, second.output);
    assert.match(second.output, /revision 1 converged/);
    assert.equal(second.code, 0, second.output);
    // No client error after Ctrl-C (it used to poll the closed server: `fetch failed … ECONNREFUSED`).
    assert.doesNotMatch(second.output, /^baton: /m);
    assert.doesNotMatch(second.output, /fetch failed/);
  });
});
