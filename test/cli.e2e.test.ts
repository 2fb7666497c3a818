// The CLI end to end: the real binary against a real server process and a real SQLite file.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { REPO, runCli, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';

const EXAMPLE = join(REPO, 'examples/shop/baton.yaml');

describe('baton validate (offline)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => (dir = await tempDir('validate')));
  after(() => dir.remove());

  it('accepts the example architecture', async () => {
    const r = await runCli(['validate', '-f', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /6 services/);
  });

  it('names the whole cycle and exits 1', async () => {
    const file = join(dir.path, 'cycle.yaml');
    await writeFile(
      file,
      [
        'name: cyclic',
        'services:',
        '  orders:',
        '    version: 1.0.0',
        '    tier: critical',
        '    run: { command: node }',
        '    dependsOn: { payments: ^1.0.0 }',
        '  payments:',
        '    version: 1.0.0',
        '    tier: critical',
        '    run: { command: node }',
        '    dependsOn: { ledger: ^1.0.0 }',
        '  ledger:',
        '    version: 1.0.0',
        '    tier: critical',
        '    run: { command: node }',
        '    dependsOn: { orders: ^1.0.0 }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', '-f', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ledger → orders → payments → ledger/);
    assert.match(r.stderr, /dependency-cycle/);
  });

  it('names line, column and the right key for a misspelt key', async () => {
    const file = join(dir.path, 'typo.yaml');
    await writeFile(
      file,
      [
        'name: typo',
        'services:',
        '  web:',
        '    version: 1.0.0',
        '    tier: high',
        '    run: { command: node }',
        '    depends_on: {}',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', '-f', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /typo\.yaml:7:5 error unknown-key/);
    assert.match(r.stderr, /did you mean `dependsOn`\?/);
  });

  it('names the line of broken YAML', async () => {
    const file = join(dir.path, 'broken.yaml');
    await writeFile(
      file,
      ['name: broken', 'services:', '  web:', '    version: [1.0.0', '    tier: high', ''].join('\n'),
    );
    const r = await runCli(['validate', '-f', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.yaml:\d+:\d+ error yaml-syntax/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--file/);
  });

  it('exits 3 with a hint when the server is unreachable', async () => {
    const r = await runCli(['history', '--server', 'http://127.0.0.1:9']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot reach the Baton server/);
    assert.match(r.stderr, /hint:/);
  });
});

describe('revisions of the example, end to end', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let server: ServerProcess;
  let env: Record<string, string>;

  before(async () => {
    dir = await tempDir('revisions');
    server = await startServer(join(dir.path, 'state'), ['--runtime', 'simulated']);
    env = { ...server.env };
  });
  after(async () => {
    await server.stop();
    await dir.remove();
  });

  it('apply, change two versions, diff, roll one service back with the consumer its range forces along', async () => {
    const first = await runCli(['apply', '-f', EXAMPLE, '-m', 'initial shop'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /recorded revision 1/);

    const again = await runCli(['apply', '-f', EXAMPLE], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /No changes/);

    // payments 1.5.0 → 1.6.0, and orders 2.1.0 → 2.2.0, which now needs payments ^1.6.0.
    const doc = parseDocument(await readFile(EXAMPLE, 'utf8'));
    doc.setIn(['services', 'payments', 'version'], '1.6.0');
    doc.setIn(['services', 'orders', 'version'], '2.2.0');
    // orders rolls out as a canary: watch each step for a second, not the example's minute.
    doc.setIn(['services', 'orders', 'rollout', 'canaryPause'], '1s');
    doc.setIn(['services', 'orders', 'dependsOn', 'payments'], '^1.6.0');
    const v2 = join(dir.path, 'baton.v2.yaml');
    await writeFile(v2, doc.toString());
    const second = await runCli(['apply', '-f', v2, '-m', 'payments 1.6, orders 2.2'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /recorded revision 2/);
    // Providers first: payments is updated before orders.
    assert.ok(second.stdout.indexOf('payments') < second.stdout.indexOf('orders'), second.stdout);

    const diff = await runCli(['diff', '1', '2'], env);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /payments 1\.5\.0 → 1\.6\.0 \(minor\)/);
    assert.match(diff.stdout, /orders 2\.1\.0 → 2\.2\.0 \(minor\)/);
    assert.match(diff.stdout, /dependsOn\.payments\.range: \^1\.5\.0 → \^1\.6\.0/);

    const plan = await runCli(['rollback', 'payments', '--dry-run'], env);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /payments 1\.6\.0 → 1\.5\.0/);
    assert.match(plan.stdout, /orders 2\.2\.0 → 2\.1\.0/);
    assert.match(plan.stdout, /orders 2\.2\.0 requires payments \^1\.6\.0/);
    // Consumers first on the way down: orders must leave ^1.6.0 before payments goes to 1.5.0.
    const steps = plan.stdout.slice(plan.stdout.indexOf('Rollout plan'));
    assert.ok(steps.indexOf('orders') < steps.indexOf('payments'), steps);

    const done = await runCli(
      ['rollback', 'payments', '--yes', '-m', 'payments 1.6 declines valid cards'],
      env,
    );
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /recorded revision 3/);
    assert.match(done.stdout, /revision 3 converged/, 'a rollback is followed like an apply');

    const history = await runCli(['history', '-o', 'json'], env);
    const revisions = JSON.parse(history.stdout) as {
      number: number;
      source: { kind: string; service?: string };
      outcome: string;
    }[];
    assert.deepEqual(
      revisions.map((r) => [r.number, r.outcome]),
      [
        [3, 'converged'],
        [2, 'converged'],
        [1, 'converged'],
      ],
    );
    assert.equal(revisions[0]!.source.kind, 'rollback-service');
    assert.equal(revisions[0]!.source.service, 'payments');

    const show = await runCli(['show', '3', '-o', 'json'], env);
    const three = JSON.parse(show.stdout) as {
      parent: number;
      manifest: { services: Record<string, { version: string }> };
      source: { moves: { service: string; reason: string }[] };
    };
    assert.equal(three.parent, 2);
    assert.equal(three.manifest.services['payments']!.version, '1.5.0');
    assert.equal(three.manifest.services['orders']!.version, '2.1.0');
    assert.deepEqual(
      three.source.moves.map((m) => m.service),
      ['payments', 'orders'],
    );
  });

  it('prints the graph in every format', async () => {
    const text = await runCli(['graph'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /payments/);
    const dot = await runCli(['graph', '--format', 'dot'], env);
    assert.match(dot.stdout, /^digraph/m);
    const mermaid = await runCli(['graph', '--format', 'mermaid'], env);
    assert.match(mermaid.stdout, /^flowchart/m);
    const radius = await runCli(['graph', '--blast-radius', 'ledger', '-o', 'json'], env);
    const entries = JSON.parse(radius.stdout) as { service: string }[];
    assert.deepEqual(entries.map((e) => e.service).sort(), ['orders', 'payments', 'web']);
  });

  it('reports status, and refuses an unknown revision with exit 1', async () => {
    const status = await runCli(['status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /revision 3: \d\/6 services settled/);
    const missing = await runCli(['show', '99'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /revision 99 does not exist/);
  });
});

describe('tokens, roles and the audit trail from the CLI', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let server: ServerProcess;
  let stateDir: string;

  before(async () => {
    dir = await tempDir('token');
    stateDir = join(dir.path, 'state');
    server = await startServer(stateDir, ['--runtime', 'simulated']);
  });
  after(async () => {
    await server.stop();
    await dir.remove();
  });

  it('writes its token with mode 0600 in a 0700 folder, refuses clients without it, and accepts the CLI that reads it', async () => {
    assert.equal((await stat(join(stateDir, 'token'))).mode & 0o777, 0o600);
    assert.equal((await stat(stateDir)).mode & 0o077, 0, 'the state folder is private');
    assert.equal((await stat(join(stateDir, 'state.db'))).mode & 0o777, 0o600);
    const token = (await readFile(join(stateDir, 'token'), 'utf8')).trim();
    assert.ok(token.length >= 32);

    const anonymous = await runCli(['history'], {
      BATON_SERVER: server.url,
      BATON_STATE_DIR: join(dir.path, 'elsewhere'),
    });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /bearer token/);
    assert.ok(!anonymous.stderr.includes(token), 'the token never appears in an error');

    const withFile = await runCli(['history'], { BATON_SERVER: server.url, BATON_STATE_DIR: stateDir });
    assert.equal(withFile.code, 0, withFile.stderr);
    const withEnv = await runCli(['history'], { BATON_SERVER: server.url, BATON_TOKEN: token });
    assert.equal(withEnv.code, 0, withEnv.stderr);
  });

  it('creates named tokens with roles; a viewer changes nothing, an operator cannot apply; the audit names them', async () => {
    const create = async (name: string, role: string) => {
      const r = await runCli(['tokens', 'create', name, '--role', role], server.env);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    const viewer = await create('vera', 'viewer');
    const operator = await create('otto', 'operator');
    const as = (token: string) => ({ BATON_SERVER: server.url, BATON_TOKEN: token });

    assert.equal((await runCli(['whoami'], as(viewer))).stdout.trim(), 'vera (viewer)');
    assert.equal((await runCli(['history'], as(viewer))).code, 0);
    const refused = await runCli(['apply', '-f', EXAMPLE], as(viewer));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /vera \(viewer\) may not apply.*\(forbidden\)/s);
    assert.match(
      (await runCli(['apply', '-f', EXAMPLE], as(operator))).stderr,
      /otto \(operator\) may not apply/,
    );
    assert.equal((await runCli(['apply', '-f', EXAMPLE, '-m', 'by the admin'], server.env)).code, 0);
    assert.equal((await runCli(['tokens', 'list'], as(operator))).code, 1, 'only admins list tokens');

    const list = await runCli(['tokens', 'list', '-o', 'json'], server.env);
    const listed = JSON.parse(list.stdout) as { name: string; role: string }[];
    assert.deepEqual(
      listed.map((t) => `${t.name}:${t.role}`),
      ['vera:viewer', 'otto:operator'],
    );
    assert.ok(!list.stdout.includes(viewer), 'a listing never shows a token');

    const audit = await runCli(['audit', '--since', '1h', '-o', 'json'], as(viewer));
    const events = JSON.parse(audit.stdout) as {
      actor: string;
      data: { action: string; status: number; source: string };
    }[];
    const seen = events.map((e) => `${e.actor} ${e.data.action} ${e.data.status}`);
    for (const expected of ['admin createToken 201', 'vera apply 403', 'otto apply 403', 'admin apply 201'])
      assert.ok(seen.includes(expected), `${expected} in\n${seen.join('\n')}`);
    assert.deepEqual(
      [...new Set(events.map((e) => e.data.source))],
      ['127.0.0.1'],
      'the address of every change',
    );
    const filtered = await runCli(
      ['audit', '--actor', 'otto', '--action', 'apply', '-o', 'json'],
      as(viewer),
    );
    assert.deepEqual(
      (JSON.parse(filtered.stdout) as { actor: string }[]).map((e) => e.actor),
      ['otto'],
    );
    const history = JSON.parse((await runCli(['history', '-o', 'json'], as(viewer))).stdout) as {
      author: string;
    }[];
    assert.equal(history[0]!.author, 'admin', "the revision's author is the token's identity");

    assert.equal((await runCli(['tokens', 'revoke', 'vera'], server.env)).code, 0);
    assert.match((await runCli(['history'], as(viewer))).stderr, /revoked bearer token/);
  });
});
