// The behaviour every Runtime adapter must have, run against each one (process, simulated, docker)
// from that adapter's own test file. Each case opens a fresh, empty runtime.
//
// Time is the adapter's: a real runtime waits by polling until a deadline, a simulated one
// by advancing its fake clock. The suite never sleeps; it asks `waitFor` and `settle`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatonError } from '../domain/errors.ts';
import { REFUSAL_CODES } from './runtime.ts';
import type { InstanceSpec, RunningInstance, Runtime, RuntimeEvent } from './runtime.ts';

/**
 * - `serve`: listens on PORT (and a second, named port), answers `/healthz`; ports `http`
 *   then `admin`, env `GREETING=hello`.
 * - `crash`: exits by itself with code 3 right after starting.
 * - `unstartable`: its start fails (a missing command, say).
 */
export type Behaviour = 'serve' | 'crash' | 'unstartable';

export interface OpenedRuntime {
  readonly runtime: Runtime;
  /** A spec for an instance that behaves as asked; a new id on every call. */
  readonly spec: (behaviour: Behaviour) => InstanceSpec;
  /** The environment as the instance sees it (through its port, where it has a real one). */
  readonly environmentOf: (instance: RunningInstance) => Promise<Readonly<Record<string, string>>>;
  /** SIGKILL from outside the runtime, as the OOM killer or an operator would do. */
  readonly killFromOutside: (instance: RunningInstance) => void;
  /** Lets time pass until the predicate holds; fails, naming `description`, if it never does. */
  readonly waitFor: (predicate: () => boolean | Promise<boolean>, description: string) => Promise<void>;
  /** Lets time pass until the promise settles, then gives its outcome. */
  readonly settle: <T>(promise: Promise<T>) => Promise<T>;
  /** Stops whatever the case left running, checks nothing leaked, and removes the runtime's state. */
  readonly cleanup: () => Promise<void>;
}

const GRACE = { graceMs: 2_000 };

export function runtimeContract(adapterName: string, open: () => Promise<OpenedRuntime>): void {
  async function withRuntime(work: (opened: OpenedRuntime, events: RuntimeEvent[]) => Promise<void>) {
    const opened = await open();
    const events: RuntimeEvent[] = [];
    const unsubscribe = opened.runtime.subscribe((event) => events.push(event));
    try {
      await work(opened, events);
    } finally {
      unsubscribe();
      await opened.cleanup();
    }
  }

  const exitsOf = (events: RuntimeEvent[], id: string) =>
    events.filter((e): e is Extract<RuntimeEvent, { type: 'exited' }> => e.type === 'exited' && e.id === id);

  describe(`Runtime contract: ${adapterName}`, () => {
    it('reports a started instance, before start resolves, and lists it with its ports', () =>
      withRuntime(async ({ runtime, spec, settle }, events) => {
        const wanted = spec('serve');
        const instance = await settle(runtime.start(wanted));
        assert.deepEqual(events, [{ type: 'started', instance }]);
        assert.equal(instance.id, wanted.id);
        assert.equal(instance.service, wanted.service);
        assert.equal(instance.version, wanted.version);
        assert.equal(instance.revision, wanted.revision);
        assert.ok(
          Number.isInteger(instance.port) && instance.port > 0 && instance.port < 65536,
          `${instance.port}`,
        );
        assert.equal(instance.ports.http, instance.port, 'the first named port is the primary one');
        assert.ok(instance.ports.admin !== undefined && instance.ports.admin !== instance.port);
        assert.ok(!Number.isNaN(Date.parse(instance.startedAt)), instance.startedAt);
        assert.deepEqual(await settle(runtime.list()), [instance]);
      }));

    it('gives the instance its port and identity in its environment', () =>
      withRuntime(async ({ runtime, spec, settle, environmentOf }) => {
        const wanted = spec('serve');
        const instance = await settle(runtime.start(wanted));
        const env = await environmentOf(instance);
        assert.equal(env.PORT, String(instance.port));
        assert.equal(env.PORT_HTTP, String(instance.ports.http));
        assert.equal(env.PORT_ADMIN, String(instance.ports.admin));
        assert.equal(env.BATON_SERVICE, wanted.service);
        assert.equal(env.BATON_INSTANCE, wanted.id);
        assert.equal(env.BATON_VERSION, wanted.version);
        assert.equal(env.BATON_REVISION, String(wanted.revision));
        assert.equal(env.GREETING, 'hello', 'the manifest env is passed on');
      }));

    it('stop reports the exit once and forgets the instance', () =>
      withRuntime(async ({ runtime, spec, settle }, events) => {
        const instance = await settle(runtime.start(spec('serve')));
        // Two stops at once: one exit, and both resolve.
        await settle(Promise.all([runtime.stop(instance.id, GRACE), runtime.stop(instance.id, GRACE)]));
        const exits = exitsOf(events, instance.id);
        assert.equal(exits.length, 1, JSON.stringify(events));
        assert.equal(exits[0]?.service, instance.service);
        assert.ok(!Number.isNaN(Date.parse(exits[0]?.at ?? '')));
        assert.deepEqual(await settle(runtime.list()), []);
      }));

    it('resolves a stop of an unknown id at once, touching nothing', () =>
      withRuntime(async ({ runtime, spec, settle }, events) => {
        const instance = await settle(runtime.start(spec('serve')));
        await settle(runtime.stop('nobody-here-0', GRACE));
        assert.deepEqual(await settle(runtime.list()), [instance]);
        assert.equal(events.filter((e) => e.type === 'exited').length, 0);
      }));

    it('reports an instance that crashes by itself with its exit code', () =>
      withRuntime(async ({ runtime, spec, settle, waitFor }, events) => {
        const instance = await settle(runtime.start(spec('crash')));
        await waitFor(() => exitsOf(events, instance.id).length > 0, 'the exit of the crashing instance');
        const [exit] = exitsOf(events, instance.id);
        assert.equal(exit?.code, 3);
        assert.equal(exit?.signal, null);
        assert.equal(events[0]?.type, 'started', 'started is reported before the exit');
        assert.deepEqual(await settle(runtime.list()), []);
      }));

    it('reports an instance killed from outside', () =>
      withRuntime(async ({ runtime, spec, settle, waitFor, killFromOutside }, events) => {
        const instance = await settle(runtime.start(spec('serve')));
        const survivor = await settle(runtime.start(spec('serve')));
        killFromOutside(instance);
        await waitFor(() => exitsOf(events, instance.id).length > 0, 'the exit of the killed instance');
        const [exit] = exitsOf(events, instance.id);
        assert.equal(exit?.signal, 'SIGKILL');
        assert.equal(exit?.code, null);
        assert.deepEqual(await settle(runtime.list()), [survivor]);
      }));

    // Distinct endpoints: processes on one address need distinct ports; containers, each on
    // its own address, may share port numbers.
    it('gives two concurrent starts distinct endpoints', () =>
      withRuntime(async ({ runtime, spec, settle }) => {
        const [a, b] = await settle(
          Promise.all([runtime.start(spec('serve')), runtime.start(spec('serve'))]),
        );
        const endpoints = [a, b].flatMap((i) => Object.values(i.ports).map((port) => `${i.address}:${port}`));
        assert.equal(new Set(endpoints).size, 4, `endpoints ${endpoints.join(', ')}`);
        assert.equal((await settle(runtime.list())).length, 2);
      }));

    it('admits what it runs', () =>
      withRuntime(async ({ runtime, spec, settle }) => {
        const { service, workload, mode, baseDir, env } = spec('serve');
        const refusals = await settle(runtime.admit({ service, workload, mode, baseDir, env }));
        for (const refusal of refusals) {
          assert.ok(Object.hasOwn(REFUSAL_CODES, refusal.code), refusal.code);
          assert.equal(refusal.severity, 'warning', `${refusal.code}: ${refusal.message}`);
        }
      }));

    it('rejects a start that fails with a coded error, reporting and listing nothing', () =>
      withRuntime(async ({ runtime, spec, settle }, events) => {
        await assert.rejects(settle(runtime.start(spec('unstartable'))), (error) => {
          assert.ok(error instanceof BatonError, String(error));
          assert.ok(
            ['runtime-refused', 'instance-unstartable', 'instance-start-failed'].includes(error.code),
            error.code,
          );
          return true;
        });
        assert.deepEqual(events, []);
        assert.deepEqual(await settle(runtime.list()), []);
      }));
  });
}
