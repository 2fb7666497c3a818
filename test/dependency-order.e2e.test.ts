// The plan's order, kept with real processes and read back from the event log's times: a
// rollback that must go consumer-first updates the consumer (its new instances serving)
// before the provider's step begins; a first deployment starts no consumer before its hard
// providers serve, and an optional dependency holds nothing up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import type { StoredEvent } from '../src/ports/store.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const run = `run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }`;
const probe = 'health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 10s }';

function architecture(provider: string, consumer: string, consumerRange: string): string {
  return `
name: ordered
services:
  catalog:
    version: ${provider}
    tier: critical
    instances: 2
    ${run}
    ${probe}
  storefront:
    version: ${consumer}
    tier: critical
    instances: 2
    ${run}
    ${probe}
    dependsOn: { catalog: "${consumerRange}" }
`;
}

interface Timed {
  readonly instance: string;
  readonly version: string;
  readonly at: number;
}

/** Instance events of a service and revision, entering a phase, with their times. */
async function entered(
  plane: ControlPlane,
  service: string,
  phase: string,
  filter: (e: StoredEvent) => boolean = () => true,
): Promise<Timed[]> {
  const events = await plane.store.readEvents({ service, kinds: [`instance.${phase}`], limit: 1000 });
  return events.filter(filter).map((e) => ({
    instance: String(e.data?.['instance']),
    version: String(e.data?.['version']),
    at: Date.parse(e.time),
  }));
}

async function converged(plane: ControlPlane, revision: number): Promise<void> {
  await eventually(
    async () =>
      (await plane.store.readEvents({ kinds: ['revision.converged'] })).some((e) => e.revision === revision),
    60_000,
    `revision ${revision} converged`,
  );
}

describe('the plan order, with real processes (event log times)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;

  before(async () => {
    dir = await tempDir('order');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: dir.path,
      baseDir: REPO,
      stopInstancesOnClose: true,
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await plane?.close();
    await dir?.remove();
  });

  it('first deployment: no consumer starts before its hard provider serves', async () => {
    const { revision } = await plane.engine.apply(
      { text: architecture('1.0.0', '1.0.0', '>=1.0.0 <3.0.0') },
      { author: 'test' },
    );
    await converged(plane, revision.number);
    const providerServing = await entered(plane, 'catalog', 'running');
    const consumerStarts = await entered(plane, 'storefront', 'starting');
    assert.ok(providerServing.length > 0 && consumerStarts.length === 2);
    const firstServing = Math.min(...providerServing.map((e) => e.at));
    for (const start of consumerStarts)
      assert.ok(
        start.at >= firstServing,
        `${start.instance} started ${firstServing - start.at} ms before catalog served`,
      );
  });

  it('a rollback that must go consumer-first: the consumer serves its old version before the provider moves', async () => {
    const up = await plane.engine.apply(
      { text: architecture('2.0.0', '2.0.0', '^2.0.0') },
      { author: 'test' },
    );
    await converged(plane, up.revision.number);
    const mark = await plane.store.lastEventSeq();
    const back = await plane.engine.rollback({ to: 1 }, { author: 'test', message: 'back to 1' });
    assert.deepEqual(
      back.plan.rollout.steps.map((s) => s.service),
      ['storefront', 'catalog'],
      'the plan says consumer first',
    );
    await converged(plane, back.revision.number);
    const since = (e: StoredEvent) => e.seq > mark;
    const consumerServing = (await entered(plane, 'storefront', 'running', since)).filter(
      (e) => e.version === '1.0.0',
    );
    assert.equal(consumerServing.length, 2);
    // The provider's step begins with its first start or its first take-down, whichever comes first.
    const providerStep = [
      ...(await entered(plane, 'catalog', 'starting', since)),
      ...(await entered(plane, 'catalog', 'draining', since)),
      ...(await entered(plane, 'catalog', 'stopped', since)),
    ];
    assert.ok(providerStep.length > 0);
    const consumerDone = Math.max(...consumerServing.map((e) => e.at));
    const providerBegins = Math.min(...providerStep.map((e) => e.at));
    assert.ok(
      consumerDone <= providerBegins,
      `catalog's step began ${consumerDone - providerBegins} ms before storefront's new instances all served`,
    );
  });
});
