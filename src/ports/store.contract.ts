// The behaviour every Store adapter must have, run against each one (SQLite, PostgreSQL)
// from that adapter's own test file. Each case opens a fresh, empty store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manifestHash } from '../domain/manifest/canonical.ts';
import type { Manifest } from '../domain/manifest/model.ts';
import { normalizeManifest } from '../domain/manifest/model.ts';
import { ManifestSchema } from '../domain/manifest/schema.ts';
import type { NewRevision } from '../domain/revisions/revision.ts';
import { StoreConflictError } from './store.ts';
import type { NewConfigRelease, NewEvent, Store, StoredSecret } from './store.ts';

export interface OpenedStore {
  readonly store: Store;
  /** Opens the same database again; the suite closes `store` first. */
  readonly reopen?: () => Promise<Store>;
  /** Closes every store it opened (close is idempotent) and removes the database. */
  readonly cleanup: () => Promise<void>;
}

/**
 * Bounds a wait for a listener so that a missing notification fails instead of hanging; the
 * wait also ends on the test's abort signal, so that the store is closed and the run can exit.
 */
const LISTENER_TIMEOUT = { timeout: 10_000 };

export function storeContract(
  adapterName: string,
  open: () => Promise<OpenedStore>,
  /** `persistent: false` for stores whose data dies with the connection (SQLite `:memory:`). */
  capabilities: { readonly persistent: boolean } = { persistent: true },
): void {
  async function withStore(work: (opened: OpenedStore) => Promise<void>): Promise<void> {
    const opened = await open();
    try {
      await work(opened);
    } finally {
      await opened.cleanup();
    }
  }

  describe(`Store contract: ${adapterName}`, () => {
    describe('revisions', () => {
      it('numbers the first revision 1 with no parent, the next 2 with parent 1', () =>
        withStore(async ({ store }) => {
          assert.equal(await store.latestRevision(), undefined);
          const first = await store.appendRevision(revision('one'), { expectedParent: null, events: [] });
          assert.equal(first.number, 1);
          assert.equal(first.parent, null);
          const second = await store.appendRevision(revision('two'), { expectedParent: 1, events: [] });
          assert.equal(second.number, 2);
          assert.equal(second.parent, 1);
          assert.deepEqual(await store.latestRevision(), second);
          assert.deepEqual(await store.getRevision(1), first);
        }));

      it('gives back the manifest, its text and the source exactly as they were stored', () =>
        withStore(async ({ store }) => {
          const manifest = richManifest();
          const source = {
            kind: 'rollback-service',
            service: 'payments',
            reason: 'p99 latency ✗',
            moves: [
              { service: 'payments', from: '2.0.0', to: '1.9.3', fromRevision: 1, reason: 'asked for' },
            ],
          } as const;
          const input = { ...revision('rich', manifest), source };
          const stored = await store.appendRevision(input, { expectedParent: null, events: [] });
          const read = await store.getRevision(stored.number);
          assert.ok(read);
          assert.equal(read.manifestText, input.manifestText);
          assert.deepEqual(read.manifest, manifest);
          // Consumers list services in manifest order: the JSON column must keep key order too.
          assert.deepEqual(Object.keys(read.manifest.services), Object.keys(manifest.services));
          assert.equal(manifestHash(read.manifest), input.hash);
          assert.deepEqual(read.source, source);
          assert.equal(read.author, input.author);
          assert.equal(read.message, input.message);
          assert.equal(read.createdAt, input.createdAt);
          assert.deepEqual(read, stored);
        }));

      it('stores times as UTC ISO 8601 with milliseconds', () =>
        withStore(async ({ store }) => {
          const stored = await store.appendRevision(
            { ...revision('tz'), createdAt: '2025-03-01T10:00:00+02:00' },
            { expectedParent: null, events: [event('a', { time: '2025-03-01T10:00:00.5+02:00' })] },
          );
          assert.equal(stored.createdAt, '2025-03-01T08:00:00.000Z');
          assert.equal((await store.getRevision(1))?.createdAt, '2025-03-01T08:00:00.000Z');
          assert.equal((await store.readEvents())[0]?.time, '2025-03-01T08:00:00.500Z');
        }));

      it('refuses a stale expectedParent with StoreConflictError and writes nothing', () =>
        withStore(async ({ store }) => {
          await assert.rejects(
            store.appendRevision(revision('ghost'), { expectedParent: 3, events: [event('lost')] }),
            StoreConflictError,
          );
          assert.equal(await store.latestRevision(), undefined);
          assert.equal(await store.lastEventSeq(), 0);

          await store.appendRevision(revision('one'), { expectedParent: null, events: [event('kept')] });
          const seq = await store.lastEventSeq();
          for (const expectedParent of [null, 0, 2]) {
            await assert.rejects(
              store.appendRevision(revision('stale'), { expectedParent, events: [event('lost')] }),
              StoreConflictError,
            );
          }
          assert.equal((await store.latestRevision())?.number, 1);
          assert.equal(await store.lastEventSeq(), seq);
          assert.deepEqual(
            (await store.readEvents()).map((e) => e.kind),
            ['kept'],
          );
        }));

      it('records a revision and its events together or not at all', () =>
        withStore(async ({ store }) => {
          // A NOT NULL column refuses the second event after the revision row was written.
          const broken = { ...event('broken'), kind: null } as unknown as NewEvent;
          await assert.rejects(
            store.appendRevision(revision('one'), { expectedParent: null, events: [event('fine'), broken] }),
          );
          assert.equal(await store.latestRevision(), undefined);
          assert.deepEqual(await store.readEvents(), []);
          const first = await store.appendRevision(revision('one'), { expectedParent: null, events: [] });
          assert.equal(first.number, 1);
        }));

      it('lets exactly one of several concurrent appends on the same parent win', () =>
        withStore(async ({ store }) => {
          await store.appendRevision(revision('base'), { expectedParent: null, events: [] });
          const contenders = Array.from({ length: 8 }, (_, i) =>
            store.appendRevision(revision(`contender-${i}`), {
              expectedParent: 1,
              events: [event('revision.applied', { message: `contender-${i}` })],
            }),
          );
          const outcomes = await Promise.allSettled(contenders);
          const winners = outcomes.filter((o) => o.status === 'fulfilled');
          const losers = outcomes.filter((o) => o.status === 'rejected');
          assert.equal(winners.length, 1);
          for (const loser of losers)
            assert.ok(loser.reason instanceof StoreConflictError, String(loser.reason));
          const winner = winners[0]!.value;
          assert.equal(winner.number, 2);
          assert.deepEqual(
            (await store.listRevisions()).map((r) => r.number),
            [2, 1],
          );
          assert.deepEqual(
            (await store.readEvents()).map((e) => e.message),
            [winner.message],
          );
        }));

      it('returns undefined for a revision that does not exist', () =>
        withStore(async ({ store }) => {
          assert.equal(await store.getRevision(1), undefined);
          await store.appendRevision(revision('one'), { expectedParent: null, events: [] });
          assert.equal(await store.getRevision(2), undefined);
          assert.equal(await store.getRevision(0), undefined);
          assert.equal(await store.getRevision(-1), undefined);
        }));

      it('lists revisions newest first, paged with before and limit, without manifests', () =>
        withStore(async ({ store }) => {
          assert.deepEqual(await store.listRevisions(), []);
          for (let n = 1; n <= 5; n++) {
            await store.appendRevision(revision(`r${n}`, manifestOf(n)), {
              expectedParent: n === 1 ? null : n - 1,
              events: [],
            });
          }
          const all = await store.listRevisions();
          assert.deepEqual(
            all.map((r) => [r.number, r.parent, r.services, r.message]),
            [
              [5, 4, 5, 'r5'],
              [4, 3, 4, 'r4'],
              [3, 2, 3, 'r3'],
              [2, 1, 2, 'r2'],
              [1, null, 1, 'r1'],
            ],
          );
          for (const summary of all) {
            assert.ok(
              !('manifest' in summary) && !('manifestText' in summary),
              'a summary carries no manifest',
            );
            const full = await store.getRevision(summary.number);
            assert.ok(full);
            const { manifest: _manifest, manifestText: _text, ...rest } = full;
            assert.deepEqual(summary, { ...rest, services: Object.keys(full.manifest.services).length });
          }
          const page = async (query: { before?: number; limit?: number }) =>
            (await store.listRevisions(query)).map((r) => r.number);
          assert.deepEqual(await page({ limit: 2 }), [5, 4]);
          assert.deepEqual(await page({ before: 4, limit: 2 }), [3, 2]);
          assert.deepEqual(await page({ before: 2, limit: 2 }), [1]);
          assert.deepEqual(await page({ before: 1 }), []);
          assert.deepEqual(await page({ limit: 0 }), []);
        }));

      it('gives the history newest first, with manifests, up to a limit', () =>
        withStore(async ({ store }) => {
          assert.deepEqual(await store.revisionHistory(10), []);
          const appended = [];
          for (let n = 1; n <= 4; n++) {
            appended.push(
              await store.appendRevision(revision(`r${n}`, manifestOf(n)), {
                expectedParent: n === 1 ? null : n - 1,
                events: [],
              }),
            );
          }
          assert.deepEqual(await store.revisionHistory(2), [appended[3], appended[2]]);
          assert.deepEqual(await store.revisionHistory(10), appended.toReversed());
        }));
    });

    describe('events', () => {
      it('records the events of a revision with it, readable in order', () =>
        withStore(async ({ store }) => {
          await store.appendRevision(revision('one'), {
            expectedParent: null,
            events: [
              event('revision.applied', { revision: 1, data: { services: ['web'] } }),
              event('rollout.planned', { revision: 1 }),
            ],
          });
          const events = await store.readEvents();
          assert.deepEqual(
            events.map((e) => [e.kind, e.revision]),
            [
              ['revision.applied', 1],
              ['rollout.planned', 1],
            ],
          );
          assert.deepEqual(events[0]?.data, { services: ['web'] });
          assert.equal(await store.lastEventSeq(), events[1]?.seq);
        }));

      it('numbers events with strictly increasing seq and reads back what was appended', () =>
        withStore(async ({ store }) => {
          assert.equal(await store.lastEventSeq(), 0);
          assert.deepEqual(await store.appendEvents([]), []);
          const appended = [
            ...(await store.appendEvents([
              event('instance.started', {
                service: 'web',
                data: { instance: 'web-1', port: 8080, ok: true },
              }),
              event('instance.started', { service: 'api' }),
            ])),
          ];
          await store.appendRevision(revision('one'), {
            expectedParent: null,
            events: [event('revision.applied')],
          });
          appended.push(
            ...(await store.appendEvents([event('health.failed', { service: 'web', message: 'ünïcode ✓' })])),
          );
          const read = await store.readEvents();
          const seqs = read.map((e) => e.seq);
          for (let i = 1; i < seqs.length; i++)
            assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
          assert.equal(read.length, 4);
          assert.deepEqual(
            read.filter((e) => e.kind !== 'revision.applied'),
            appended,
          );
          assert.deepEqual(read[0], {
            seq: seqs[0],
            kind: 'instance.started',
            service: 'web',
            actor: 'controller',
            message: 'instance.started',
            time: '2025-01-01T00:00:00.000Z',
            data: { instance: 'web-1', port: 8080, ok: true },
          });
          assert.equal(await store.lastEventSeq(), seqs.at(-1));
        }));

      it('filters events by after, limit, service and kinds, oldest first', () =>
        withStore(async ({ store }) => {
          const stored = await store.appendEvents([
            event('instance.started', { service: 'web' }),
            event('instance.started', { service: 'api' }),
            event('health.failed', { service: 'web' }),
            event('revision.applied'),
            event('instance.stopped', { service: 'web' }),
            event('health.failed', { service: 'api' }),
          ]);
          const seq = stored.map((e) => e.seq);
          const read = async (query: Parameters<Store['readEvents']>[0]) =>
            (await store.readEvents(query)).map((e) => e.seq);
          assert.deepEqual(await read({}), seq);
          assert.deepEqual(await read({ after: seq[2] }), seq.slice(3));
          assert.deepEqual(await read({ after: seq.at(-1) }), []);
          assert.deepEqual(await read({ limit: 2 }), seq.slice(0, 2));
          assert.deepEqual(await read({ limit: 0 }), []);
          assert.deepEqual(await read({ after: seq[0], limit: 2 }), seq.slice(1, 3));
          assert.deepEqual(await read({ service: 'web' }), [seq[0], seq[2], seq[4]]);
          assert.deepEqual(await read({ service: 'nobody' }), []);
          assert.deepEqual(await read({ kinds: ['health.failed'] }), [seq[2], seq[5]]);
          assert.deepEqual(await read({ kinds: ['health.failed', 'revision.applied'] }), [
            seq[2],
            seq[3],
            seq[5],
          ]);
          assert.deepEqual(await read({ kinds: [] }), seq, 'an empty kinds list does not filter');
          assert.deepEqual(
            await read({
              service: 'web',
              kinds: ['instance.started', 'instance.stopped'],
              after: seq[0],
              limit: 5,
            }),
            [seq[4]],
          );
          // The newest ones, still oldest first: a service's recent history, however long the log.
          assert.deepEqual(await read({ newest: true, limit: 2 }), seq.slice(4));
          assert.deepEqual(await read({ newest: true, service: 'web', limit: 2 }), [seq[2], seq[4]]);
          assert.deepEqual(await read({ newest: true, after: seq[3] }), seq.slice(4));
          assert.deepEqual(await read({ newest: true, kinds: ['health.failed'], limit: 1 }), [seq[5]]);
          // Paging back: the newest ones before a sequence.
          assert.deepEqual(await read({ newest: true, before: seq[4], limit: 2 }), seq.slice(2, 4));
          assert.deepEqual(await read({ before: seq[1] }), seq.slice(0, 1));
        }));

      it(
        'tells listeners the highest new seq after the commit, until they unsubscribe',
        LISTENER_TIMEOUT,
        (t) =>
          withStore(async ({ store }) => {
            const dropped = recordCalls(store, { signal: t.signal });
            const kept = recordCalls(store, { signal: t.signal, readOnCall: true });
            const [, second] = await store.appendEvents([event('a'), event('b')]);
            await kept.reached(second!.seq);
            await dropped.reached(second!.seq);

            dropped.unsubscribe();
            await store.appendRevision(revision('one'), {
              expectedParent: null,
              events: [event('revision.applied'), event('rollout.started')],
            });
            const last = await store.lastEventSeq();
            await kept.reached(last);
            assert.ok(!dropped.calls.includes(last), 'an unsubscribed listener is not called');
            assert.ok(
              kept.calls.every((seq) => seq <= last),
              `every announced seq exists: ${kept.calls.join(', ')}`,
            );
            kept.unsubscribe();
            const seenOnCall = await Promise.all(kept.readsOnCall);
            kept.calls.forEach((seq, i) =>
              assert.ok(seenOnCall[i]! >= seq, `seq ${seq} was announced before it was readable`),
            );
          }),
      );

      it('rejects a bad limit or an unparseable time without writing', () =>
        withStore(async ({ store }) => {
          await assert.rejects(store.readEvents({ limit: -1 }), RangeError);
          await assert.rejects(store.listRevisions({ limit: 1.5 }), RangeError);
          await assert.rejects(store.appendEvents([event('a', { time: 'yesterday' })]), RangeError);
          assert.equal(await store.lastEventSeq(), 0);
        }));
    });

    describe('tokens', () => {
      const token = (name: string, digest: string) => ({
        name,
        role: 'viewer',
        digest,
        createdAt: '2025-01-01T00:00:00.000Z',
        createdBy: 'admin',
      });

      it('finds an unrevoked token by its digest, lists every one, and refuses a name twice', () =>
        withStore(async ({ store }) => {
          await store.createToken(token('ci', 'a'.repeat(64)));
          await store.createToken({ ...token('ana', 'b'.repeat(64)), role: 'operator' });
          assert.deepEqual(await store.tokenByDigest('a'.repeat(64)), token('ci', 'a'.repeat(64)));
          assert.equal(await store.tokenByDigest('c'.repeat(64)), undefined);
          await assert.rejects(store.createToken(token('ci', 'd'.repeat(64))), StoreConflictError);
          assert.deepEqual(
            (await store.listTokens()).map((t) => `${t.name}:${t.role}`),
            ['ana:operator', 'ci:viewer'],
          );
        }));

      it('revokes a token for good: it authenticates no one and its name stays taken', () =>
        withStore(async ({ store }) => {
          await store.createToken(token('ci', 'a'.repeat(64)));
          assert.equal(await store.revokeToken('ci', '2025-01-02T00:00:00.000Z'), true);
          assert.equal(await store.revokeToken('ci', '2025-01-03T00:00:00.000Z'), false);
          assert.equal(await store.revokeToken('nobody', '2025-01-03T00:00:00.000Z'), false);
          assert.equal(await store.tokenByDigest('a'.repeat(64)), undefined);
          const [listed] = await store.listTokens();
          assert.equal(listed?.revokedAt, '2025-01-02T00:00:00.000Z');
          await assert.rejects(store.createToken(token('ci', 'e'.repeat(64))), StoreConflictError);
        }));
    });

    describe('server keys', () => {
      it('keeps the first value claimed, agrees on it under concurrent claims, and replaces on demand', () =>
        withStore(async ({ store }) => {
          const claims = await Promise.all(
            Array.from({ length: 8 }, (_, i) => store.claimServerKey('service-token-key', `value-${i}`)),
          );
          assert.equal(new Set(claims).size, 1, `every claimant gets the same value: ${claims.join(', ')}`);
          assert.match(claims[0]!, /^value-\d$/);
          assert.equal(await store.claimServerKey('service-token-key', 'later'), claims[0]);
          assert.equal(await store.claimServerKey('admin-token-digest', 'd1'), 'd1', 'names are apart');
          await store.replaceServerKey('admin-token-digest', 'd2');
          assert.equal(await store.claimServerKey('admin-token-digest', 'd3'), 'd2');
          await store.replaceServerKey('fresh', 'f1');
          assert.equal(await store.claimServerKey('fresh', 'f2'), 'f1');
        }));
    });

    describe('secrets', () => {
      const secret = (name: string, sealed: string, fields: Partial<StoredSecret> = {}): StoredSecret => ({
        name,
        sealed,
        fingerprint: `fp-${sealed}`,
        updatedAt: '2025-01-01T00:00:00.000Z',
        updatedBy: 'ana@example.com',
        ...fields,
      });

      it('creates, replaces, lists by name and deletes secrets, each with its events', () =>
        withStore(async ({ store }) => {
          assert.equal(await store.getSecret('DB_PASSWORD'), undefined);
          await store.putSecret(secret('DB_PASSWORD', 'v1'), [event('secret.set')]);
          await store.putSecret(secret('API_KEY', 'a1'), [event('secret.set')]);
          const replaced = secret('DB_PASSWORD', 'v2', {
            updatedAt: '2025-01-02T00:00:00.000Z',
            updatedBy: 'bo',
          });
          await store.putSecret(replaced, [event('secret.set')]);
          assert.deepEqual(await store.getSecret('DB_PASSWORD'), replaced);
          assert.deepEqual(
            (await store.listSecrets()).map((s) => [s.name, s.sealed]),
            [
              ['API_KEY', 'a1'],
              ['DB_PASSWORD', 'v2'],
            ],
          );
          assert.equal(await store.deleteSecret('API_KEY', [event('secret.deleted')]), true);
          assert.equal(await store.deleteSecret('API_KEY', [event('secret.deleted')]), false);
          assert.deepEqual(
            (await store.readEvents()).map((e) => e.kind),
            ['secret.set', 'secret.set', 'secret.set', 'secret.deleted'],
            'a delete of nothing writes no event',
          );
          assert.deepEqual(
            (await store.listSecrets()).map((s) => s.name),
            ['DB_PASSWORD'],
          );
        }));

      it('announces the events of a secret change to listeners', () =>
        withStore(async ({ store }) => {
          const heard = new Promise<number>((resolve) => store.onEvents(resolve));
          await store.putSecret(secret('TOKEN', 't'), [event('secret.set')]);
          assert.equal(await heard, await store.lastEventSeq());
        }));
    });

    describe('config releases', () => {
      const release = (message: string, fields: Partial<NewConfigRelease> = {}): NewConfigRelease => ({
        content: {
          global: { LOG_LEVEL: 'info', RETRIES: 3, DEBUG: false },
          services: {},
          versions: {},
          groups: {},
        },
        status: 'stable',
        author: 'ana@example.com',
        message,
        source: { kind: 'apply' },
        createdAt: '2025-01-01T00:00:00.000Z',
        ...fields,
      });

      it('numbers releases apart from revisions, refuses a stale parent, and keeps them exactly', () =>
        withStore(async ({ store }) => {
          await store.appendRevision(revision('one'), { expectedParent: null, events: [] });
          const first = await store.appendConfigRelease(release('one'), { expectedParent: null, events: [] });
          assert.deepEqual([first.number, first.parent], [1, null]);
          const gray = await store.appendConfigRelease(
            release('two', { status: 'gray', gray: { share: 10 }, source: { kind: 'rollback', from: 1 } }),
            { expectedParent: 1, events: [event('config.released')] },
          );
          await assert.rejects(
            store.appendConfigRelease(release('late'), { expectedParent: 1, events: [] }),
            StoreConflictError,
          );
          assert.deepEqual(await store.getConfigRelease(2), gray);
          assert.deepEqual(await store.getConfigRelease(1), first);
          await store.setConfigReleaseStatus(2, 'abandoned', [event('config.abandoned')]);
          assert.equal((await store.getConfigRelease(2))?.status, 'abandoned');
          assert.deepEqual(
            (await store.listConfigReleases({ limit: 5 })).map((r) => r.number),
            [2, 1],
          );
          assert.deepEqual(
            (await store.listConfigReleases({ before: 2 })).map((r) => r.number),
            [1],
          );
          assert.deepEqual(
            (await store.readEvents()).map((e) => e.kind),
            ['config.released', 'config.abandoned'],
          );
        }));
    });

    describe('lifecycle', () => {
      if (capabilities.persistent)
        it('keeps revisions and events across a reopen', () =>
          withStore(async ({ store, reopen }) => {
            assert.ok(reopen, `${adapterName} is persistent, so its opener must provide reopen()`);
            const manifest = richManifest();
            const first = await store.appendRevision(revision('one', manifest), {
              expectedParent: null,
              events: [event('revision.applied', { revision: 1 })],
            });
            await store.appendEvents([event('instance.started', { service: 'web' })]);
            const events = await store.readEvents();
            await store.close();

            const again = await reopen();
            assert.deepEqual(await again.getRevision(1), first);
            assert.deepEqual(await again.readEvents(), events);
            assert.equal(await again.lastEventSeq(), events.at(-1)?.seq);
            const second = await again.appendRevision(revision('two'), {
              expectedParent: 1,
              events: [event('b')],
            });
            assert.equal(second.number, 2);
            assert.ok(
              (await again.lastEventSeq()) > events.at(-1)!.seq,
              'seq keeps increasing after a reopen',
            );
            await again.close();
          }));

      it('closes idempotently', () =>
        withStore(async ({ store }) => {
          await store.close();
          await store.close();
        }));
    });
  });
}

/** Subscribes a listener that records its calls; `readOnCall` reads lastEventSeq the moment it is told. */
function recordCalls(store: Store, options: { signal: AbortSignal; readOnCall?: boolean }) {
  const calls: number[] = [];
  const readsOnCall: Promise<number>[] = [];
  const waiters: { seq: number; resolve: () => void }[] = [];
  const unsubscribe = store.onEvents((seq) => {
    calls.push(seq);
    if (options.readOnCall) readsOnCall.push(store.lastEventSeq());
    for (const waiter of waiters.filter((w) => seq >= w.seq)) waiter.resolve();
  });
  return {
    calls,
    readsOnCall,
    unsubscribe,
    /** Resolves once the listener has been told about `seq` (or a later one). */
    reached: (seq: number) =>
      calls.some((c) => c >= seq)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ seq, resolve });
            options.signal.addEventListener('abort', () => reject(options.signal.reason as Error), {
              once: true,
            });
          }),
  };
}

function manifestOf(serviceCount: number): Manifest {
  const services: Record<string, unknown> = {};
  for (let i = 1; i <= serviceCount; i++) {
    services[`svc-${i}`] = {
      version: `1.${i}.0`,
      tier: 'medium',
      run: { command: 'node', args: ['server.js'] },
    };
  }
  return normalizeManifest(ManifestSchema.parse({ name: 'shop', services }));
}

/** Every kind of JSON value a manifest holds, services in non-alphabetical order. */
function richManifest(): Manifest {
  const parsed = ManifestSchema.parse({
    name: 'shop',
    description: 'Tiendas “online” — 商店 🛒',
    services: {
      web: {
        version: '2.0.0-rc.1',
        tier: 'critical',
        run: { command: 'node', args: ['web.js', '--port', '${PORT}'] },
        env: { GREETING: 'line one\nline "two"\t\\', EMPTY: '' },
        resources: { cpu: 0.25, memory: '256Mi' },
        instances: { min: 2, max: 10 },
        ports: [{ name: 'http', port: 8080 }],
        health: { http: { path: '/healthz' }, failureThreshold: 5 },
        dependsOn: { payments: '^1.2.0', catalog: { range: '>=1.0.0 <3', optional: true } },
        routes: [{ path: '/', methods: ['GET', 'HEAD'], stripPrefix: false }],
        rollout: { strategy: 'canary', canarySteps: [5, 25, 100], maxSurge: '25%' },
      },
      payments: { version: '1.9.3', tier: 'high', image: 'registry.local/payments:1.9.3', mode: 'pet' },
      catalog: { version: '1.0.0', tier: 'low', run: { command: 'python3', args: [] }, instances: 0 },
    },
  });
  const manifest = normalizeManifest(parsed);
  // normalizeManifest sorts services; reverse them so that key order is something to keep.
  const services = Object.fromEntries(Object.entries(manifest.services).reverse());
  return { ...manifest, services };
}

function revision(message: string, manifest: Manifest = manifestOf(1)): NewRevision {
  return {
    hash: manifestHash(manifest),
    manifestText: `# ${message}\nname: ${manifest.name}\n`,
    manifest,
    author: 'ana@example.com',
    message,
    source: { kind: 'apply' },
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

function event(kind: string, fields: Partial<NewEvent> = {}): NewEvent {
  return { kind, actor: 'controller', message: kind, time: '2025-01-01T00:00:00.000Z', ...fields };
}
