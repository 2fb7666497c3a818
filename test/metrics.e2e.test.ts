// The control plane's /metrics, as Prometheus reads it: valid for `promtool check metrics`
// (Debian's prometheus package), with the controller's metrics a Kubernetes controller
// would expose, after a real rollout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { authedFetch } from './support/api-token.ts';

const manifest = (version: string) => `
name: metered
services:
  api:
    version: ${version}
    tier: high
    instances: 2
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 5s }
`;

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('control-plane metrics', { skip: !promtool && 'promtool is not installed' }, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;

  before(async () => {
    dir = await tempDir('metrics');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: dir.path,
      baseDir: REPO,
      stopInstancesOnClose: true,
      logger: pino({ level: 'silent' }),
    });
    for (const version of ['1.0.0', '1.1.0']) {
      const { revision } = await plane.engine.apply({ text: manifest(version) }, { author: 'test' });
      await eventually(
        async () =>
          (await plane.store.readEvents({ kinds: ['revision.converged'] })).some(
            (e) => e.revision === revision.number,
          ),
        { what: `revision ${revision.number} converged`, timeoutMs: 30_000 },
      );
    }
  });
  after(async () => {
    await plane?.close();
    await dir?.remove();
  });

  it('passes promtool check metrics, and exposes the work queue, passes, instances, rollouts, revision, leadership and store', async () => {
    const response = await authedFetch(plane.token)(`${plane.url}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    const value = (pattern: RegExp) => {
      const match = pattern.exec(text);
      assert.ok(match, `${pattern} in /metrics`);
      return Number(match[1]);
    };
    assert.ok(value(/^baton_workqueue_depth (\d+)$/m) >= 0);
    assert.ok(value(/^baton_workqueue_adds_total (\d+)$/m) > 0);
    assert.ok(value(/^baton_workqueue_retries_total (\d+)$/m) >= 0);
    assert.ok(value(/^baton_reconcile_duration_seconds_count (\d+)$/m) > 0);
    assert.ok(value(/^baton_reconcile_total\{result="(?:done|requeue)"\} (\d+)$/m) > 0);
    assert.equal(value(/^baton_instances\{service="api",phase="running"\} (\d+)$/m), 2);
    assert.match(text, /^# TYPE baton_instance_restarts_total counter$/m);
    assert.equal(value(/^baton_rollouts_started_total (\d+)$/m), 2);
    assert.equal(value(/^baton_rollouts_converged_total (\d+)$/m), 2);
    assert.match(text, /^# TYPE baton_rollouts_failed_total counter$/m);
    assert.equal(value(/^baton_rollouts_rolled_back_total (\d+)$/m), 0);
    assert.equal(value(/^baton_current_revision (\d+)$/m), 2);
    assert.equal(value(/^baton_leader (\d+)$/m), 1);
    assert.ok(
      value(/^baton_store_operation_duration_seconds_count\{operation="append_events"\} (\d+)$/m) > 0,
    );
  });
});
