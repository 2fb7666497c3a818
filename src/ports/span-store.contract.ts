// The behaviour every SpanStore adapter must have, run against each one from that adapter's
// own test file (SQLite now; a shared store for high availability next). Each case opens a
// fresh, empty store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpanRecord } from '../domain/telemetry/span.ts';
import { spanOf } from '../domain/telemetry/test-spans.ts';
import type { SpanStore } from './span-store.ts';

export interface OpenedSpanStore {
  readonly store: SpanStore;
  /** Closes the store and opens it again on the same data. */
  readonly reopen: () => Promise<SpanStore>;
  /** Closes whatever is open and removes the data. */
  readonly cleanup: () => Promise<void>;
}

export const T0 = 1_700_000_000_000; // ms; spanOf's `at` is relative to it
export const traceId = (n: number) => n.toString(16).padStart(32, '0');
const RESOURCE = Object.freeze({ 'host.name': 'box' });

/** A two-service trace: web's server span (root) calling orders; `at` in ms from T0. */
export function trace(
  n: number,
  at: number,
  options: { ms?: number; error?: boolean; route?: string } = {},
): SpanRecord[] {
  const ms = options.ms ?? 10;
  const common = { traceId: traceId(n), resource: RESOURCE };
  return [
    spanOf({
      ...common,
      id: 'root',
      at,
      ms,
      kind: 'server',
      service: 'web',
      instance: 'web-1',
      attributes: { 'http.request.method': 'POST', 'http.route': options.route ?? '/api/checkout' },
    }),
    spanOf({
      ...common,
      id: 'call',
      parent: 'root',
      at: at + 1,
      ms: ms - 2,
      kind: 'client',
      service: 'web',
      instance: 'web-1',
    }),
    spanOf({
      ...common,
      id: 'orders',
      parent: 'call',
      at: at + 2,
      ms: ms - 4,
      kind: 'server',
      service: 'orders',
      version: '2.1.0',
      status: options.error ? 'error' : 'unset',
      ...(options.error ? { statusMessage: 'boom' } : {}),
      attributes: { 'http.response.status_code': options.error ? 500 : 201 },
      events: [{ timeUs: (T0 + at + 3) * 1000, name: 'charged', attributes: { amount: 12 } }],
      links: [{ traceId: traceId(999), spanId: 'abcdefabcdefabcd' }],
    }),
  ];
}

export function spanStoreContract(adapterName: string, open: () => Promise<OpenedSpanStore>): void {
  async function withStore(work: (opened: OpenedSpanStore) => Promise<void>): Promise<void> {
    const opened = await open();
    try {
      await work(opened);
    } finally {
      await opened.cleanup();
    }
  }

  describe(`SpanStore contract: ${adapterName}`, () => {
    it('stores a request in one go and gives every span back as it was', () =>
      withStore(async ({ store }) => {
        const spans = trace(1, 0, { error: true });
        assert.equal((await store.append(spans)).length, 3);
        const back = await store.getTrace(traceId(1));
        const byId = (list: readonly SpanRecord[]) =>
          [...list].sort((a, b) => a.spanId.localeCompare(b.spanId));
        assert.deepEqual(byId(back), byId(spans));
        assert.deepEqual(await store.getTrace(traceId(404)), []);
      }));

    it('skips spans it already has (an exporter retrying) and says which were new', () =>
      withStore(async ({ store }) => {
        const spans = trace(2, 100);
        await store.append(spans.slice(0, 1));
        const stored = await store.append(spans);
        assert.deepEqual(
          stored.map((s) => s.name),
          ['call', 'orders'],
        );
        const [summary] = await store.searchTraces({
          route: 'POST /api/checkout',
          sinceUs: (T0 + 100) * 1000,
          untilUs: (T0 + 100) * 1000,
          limit: 5,
        });
        assert.equal(summary?.spanCount, 3, 'counted once');
      }));

    it('summarises each trace: root, duration, errors and services, the root taking over when it arrives last', () =>
      withStore(async ({ store }) => {
        const [root, call, orders] = trace(3, 200, { ms: 50, error: true });
        await store.append([orders!, call!]);
        const before = (
          await store.searchTraces({
            sinceUs: (T0 + 200) * 1000,
            untilUs: (T0 + 200) * 1000 + 5_000,
            limit: 5,
          })
        ).find((t) => t.traceId === traceId(3));
        assert.deepEqual(
          before?.root,
          { service: 'orders', route: 'orders', complete: false },
          'a server span stands in',
        );
        await store.append([root!]);
        const [after] = await store.searchTraces({
          sinceUs: (T0 + 200) * 1000,
          untilUs: (T0 + 200) * 1000,
          limit: 5,
        });
        assert.deepEqual(after, {
          traceId: traceId(3),
          start: new Date(T0 + 200).toISOString(),
          durationMs: 50,
          spanCount: 3,
          errorCount: 1,
          error: true,
          root: { service: 'web', route: 'POST /api/checkout', complete: true },
          services: ['orders', 'web'],
        });
      }));

    it('searches by service, route, status, duration and time, newest first', () =>
      withStore(async ({ store }) => {
        await store.append([
          ...trace(10, 1_000, { ms: 10 }),
          ...trace(11, 2_000, { ms: 300, route: '/api/catalog' }),
          ...trace(12, 3_000, { ms: 20, error: true }),
          spanOf({ traceId: traceId(13), id: 'solo', at: 4_000, ms: 5, service: 'ledger', kind: 'server' }),
        ]);
        const ids = async (query: Parameters<SpanStore['searchTraces']>[0]) =>
          (await store.searchTraces(query)).map((t) => Number.parseInt(t.traceId, 16));
        const window = { sinceUs: (T0 + 1_000) * 1000, untilUs: (T0 + 4_000) * 1000 };
        assert.deepEqual(await ids({ ...window, limit: 10 }), [13, 12, 11, 10]);
        assert.deepEqual(await ids({ ...window, limit: 2 }), [13, 12]);
        assert.deepEqual(await ids({ ...window, service: 'orders', limit: 10 }), [12, 11, 10]);
        assert.deepEqual(await ids({ ...window, service: 'ledger', limit: 10 }), [13]);
        assert.deepEqual(await ids({ ...window, route: 'POST /api/catalog', limit: 10 }), [11]);
        assert.deepEqual(await ids({ ...window, status: 'error', limit: 10 }), [12]);
        assert.deepEqual(await ids({ ...window, status: 'ok', service: 'web', limit: 10 }), [11, 10]);
        assert.deepEqual(await ids({ ...window, minDurationUs: 20_000, limit: 10 }), [12, 11]);
        assert.deepEqual(await ids({ ...window, maxDurationUs: 10_000, limit: 10 }), [13, 10]);
        assert.deepEqual(
          await ids({ sinceUs: (T0 + 2_500) * 1000, untilUs: (T0 + 3_500) * 1000, limit: 10 }),
          [12],
        );
      }));

    it('deletes whole traces past the age limit, oldest first, in bounded chunks', () =>
      withStore(async ({ store }) => {
        await store.append([
          ...trace(1, 0),
          ...trace(2, 100),
          ...trace(10, 1_000, { ms: 10 }),
          ...trace(11, 2_000, { ms: 300, route: '/api/catalog' }),
          ...trace(12, 3_000, { ms: 20, error: true }),
          ...trace(14, 5_000),
        ]);
        const now = T0 + 10_000;
        const before = await store.searchTraces({ limit: 1000 });
        const policy = { maxAgeMs: now - (T0 + 2_500), maxBytes: Number.MAX_SAFE_INTEGER };
        const first = await store.enforceRetention(policy, now, 2);
        assert.deepEqual([first.deletedTraces, first.done], [2, false]);
        let pass = first;
        while (!pass.done) pass = await store.enforceRetention(policy, now, 2);
        const after = await store.searchTraces({ limit: 1000 });
        assert.deepEqual(
          after.map((t) => t.traceId),
          before.filter((t) => Date.parse(t.start) >= T0 + 2_500).map((t) => t.traceId),
        );
        assert.deepEqual(await store.getTrace(traceId(10)), [], 'its spans went with it');
        assert.equal(
          (await store.searchTraces({ service: 'orders', limit: 10, untilUs: (T0 + 2_000) * 1000 })).length,
          0,
        );
      }));

    it('deletes the oldest traces while the store is larger than the size limit', () =>
      withStore(async ({ store: small }) => {
        const big = { note: 'x'.repeat(2_000) };
        for (let n = 0; n < 300; n++) {
          await small.append(
            trace(5_000 + n, n).map((s) => ({ ...s, attributes: { ...s.attributes, ...big } })),
          );
        }
        const full = await small.sizeBytes();
        const policy = { maxAgeMs: Number.MAX_SAFE_INTEGER, maxBytes: Math.floor(full / 2) };
        for (let pass = await small.enforceRetention(policy, T0, 50); !pass.done || pass.deletedTraces > 0;) {
          pass = await small.enforceRetention(policy, T0, 50);
        }
        assert.ok((await small.sizeBytes()) <= policy.maxBytes, 'within the limit');
        const left = await small.searchTraces({ limit: 1000 });
        assert.ok(left.length > 0 && left.length < 300);
        assert.equal(left.at(-1)!.traceId, traceId(5_000 + 300 - left.length), 'the newest kept');
      }));

    it('keeps what it stored across a reopen', () =>
      withStore(async ({ store, reopen }) => {
        await store.append(trace(77, 0));
        const again = await reopen();
        assert.equal((await again.getTrace(traceId(77))).length, 3);
        assert.equal((await again.append(trace(77, 0))).length, 0, 'still knows them');
        assert.equal((await again.append(trace(78, 0))).length, 3, 'resources found again by key');
      }));
  });
}
