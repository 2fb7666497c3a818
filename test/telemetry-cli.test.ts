// `baton traces` as a separate process against a real control plane. Until the lead wires
// registerTracesCommands into main.ts, a three-line program stands in for bin/baton.js,
// with main.ts's exit-code mapping.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { authedFetch } from './support/api-token.ts';

const PROGRAM = `
import { Command, CommanderError } from 'commander';
import { registerTracesCommands } from ${JSON.stringify(join(REPO, 'src/interfaces/cli/commands/traces.ts'))};
import { CliExit } from ${JSON.stringify(join(REPO, 'src/interfaces/cli/exit-codes.ts'))};
const program = new Command('baton').option('--server <url>').exitOverride();
registerTracesCommands(program);
try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); }
catch (error) { process.exitCode = error instanceof CliExit ? error.code : error instanceof CommanderError ? 2 : 3; }
`;

function baton(
  args: string[],
  { url: server, token }: { url: string; token: string | undefined },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', PROGRAM, '--', '--server', server, ...args],
      {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: '1', BATON_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const TRACE_ID = '6e0c63257de34c92bf9efcd03927272e';

describe('baton traces', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;

  before(async () => {
    dir = await tempDir('telemetry-cli');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
    });
    const at = BigInt(Date.now() - 5_000) * 1_000_000n;
    const span = (
      service: string,
      spanId: string,
      parentSpanId: string,
      name: string,
      kind: number,
      from: bigint,
      to: bigint,
    ) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: TRACE_ID,
              spanId,
              parentSpanId,
              name,
              kind,
              startTimeUnixNano: String(at + from),
              endTimeUnixNano: String(at + to),
            },
          ],
        },
      ],
    });
    const response = await authedFetch(plane.token)(`${plane.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          span('web', '1111111111111111', '', 'POST /api/checkout', 2, 0n, 250_000_000n),
          span('web', '2222222222222222', '1111111111111111', 'POST orders', 3, 10_000_000n, 240_000_000n),
          span(
            'orders',
            '3333333333333333',
            '2222222222222222',
            'POST /orders',
            2,
            20_000_000n,
            230_000_000n,
          ),
        ],
      }),
    });
    assert.equal(response.status, 200);
  });
  after(async () => {
    await plane?.close();
    await dir?.remove();
  });

  it('searches, filters and prints JSON on request', async () => {
    const list = await baton(
      ['traces', '--service', 'orders', '--min-duration', '200ms', '--since', '1h'],
      plane,
    );
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`${TRACE_ID} .* 250\\.0ms +3 +0 +web POST /api/checkout +orders, web`),
    );

    const none = await baton(['traces', '--min-duration', '1s'], plane);
    assert.match(none.stdout, /No traces match/);

    const json = await baton(['traces', '-o', 'json', '--errors'], plane);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  it('shows one trace as a call tree', async () => {
    const shown = await baton(['traces', 'show', TRACE_ID], plane);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout.split('\n');
    assert.match(lines[0]!, new RegExp(`^trace ${TRACE_ID} .* 250\\.0ms, 3 spans, 2 services$`));
    assert.match(lines[2]!, /^POST \/api\/checkout +0\.000 +0\.000 +250\.000 +100% +20\.000 +web/);
    assert.match(lines[3]!, /^└─ POST orders +10\.000 +10\.000 +230\.000 +92% +20\.000 +web/);
    assert.match(lines[4]!, /^ {3}└─ POST \/orders +20\.000 +10\.000 +210\.000 +84% +210\.000 +orders/);
  });

  it('says so, with exit 1, for a trace it does not have; exit 2 for bad options', async () => {
    const missing = await baton(['traces', 'show', 'ab'.repeat(16)], plane);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no trace abab.*\(not-found\)/);
    const bad = await baton(['traces', '--min-duration', 'soon'], plane);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a duration/);
  });
});
