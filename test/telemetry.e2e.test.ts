// Telemetry end to end: the control plane runs the example shop as real processes, each
// traced with @baton/sdk and exporting to the control plane. One checkout becomes one trace
// across every service it touches, shown as a correct call tree; the live map draws the
// calls and reports drift as soon as the manifest stops declaring one that traffic uses.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import type { WaterfallRow } from '../src/domain/telemetry/call-tree.ts';
import type { LiveMapSnapshot } from '../src/engines/telemetry/live-map.ts';
import { controlPlaneSource } from '../src/engines/gateway/control-plane-source.ts';
import { startGateway } from '../src/engines/gateway/gateway.ts';
import { otlpSpanExport } from '../src/engines/gateway/span-export.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { authedFetch } from './support/api-token.ts';

const SHOP = join(REPO, 'examples/shop');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

interface TraceJson {
  traceId: string;
  durationMs: number;
  services: string[];
  rows: WaterfallRow[];
}

describe('telemetry with the example shop on real processes', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;
  let manifest: string;
  const get = async <T>(path: string): Promise<T> => {
    const response = await authedFetch(plane.token)(`${plane.url}${path}`);
    assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    return (await response.json()) as T;
  };
  const converged = async () => {
    await eventually(
      async () =>
        plane.controller.states().length === 6 && plane.controller.states().every((s) => s.settled)
          ? true
          : undefined,
      60_000,
      'the shop converges',
    );
  };
  const checkout = async (headers: Record<string, string> = {}) => {
    const { endpoints } = await get<{ endpoints: { port: number }[] }>('/v1/discovery/web');
    const response = await fetch(`http://127.0.0.1:${endpoints[0]!.port}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
    });
    assert.equal(response.status, 201, await response.text());
  };

  before(async () => {
    dir = await tempDir('telemetry-e2e');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'process',
      stopInstancesOnClose: true,
      baseDir: SHOP,
      // What the shop's own spans show: the services call each other by discovery here, as
      // with `baton up --no-gateway` (the data plane's spans: test/east-west.e2e.test.ts).
      eastWest: false,
      logger: pino({ level: 'silent' }),
    });
    manifest = await readFile(join(SHOP, 'baton.yaml'), 'utf8');
    await plane.engine.apply({ text: manifest, baseDir: SHOP }, { author: 'test' });
    await converged();
  });

  after(async () => {
    await plane?.close();
    const left = await findOwnedProcesses(join(dir.path, 'state'));
    await dir.remove();
    assert.deepEqual(left, [], 'no instance outlives the control plane');
  });

  it('turns one checkout into one trace across every service, as a correct call tree', async () => {
    await checkout({ traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    const everyService = ['inventory', 'ledger', 'notifications', 'orders', 'payments', 'web'];
    const trace = await eventually(
      async () => {
        const t = await get<TraceJson>(`/v1/traces/${TRACE_ID}`);
        // Spans arrive from six processes in their own batches: wait for the last server span.
        const servers = t.rows.filter((r) => r.kind === 'server').map((r) => r.service);
        return everyService.every((s) => servers.includes(s)) ? t : undefined;
      },
      20_000,
      'spans from every service',
    );
    assert.deepEqual(trace.services, everyService);

    const byId = new Map(trace.rows.map((r) => [r.spanId, r]));
    const childrenOf = (row: WaterfallRow) => row.children.map((id) => byId.get(id)!);
    // The gateway's (here: the test's) span is the parent of web's server span: continued, not restarted.
    const [root, ...others] = trace.rows;
    assert.equal(root!.service, 'web');
    assert.equal(root!.kind, 'server');
    assert.equal(root!.name, 'POST /api/checkout');
    assert.equal(root!.parentSpanId, CALLER_SPAN);
    assert.equal(root!.orphan, true);
    assert.ok(
      others.every((r) => r.depth > 0),
      'one root: every other span hangs under it',
    );

    // Every call is a client span in the caller whose only child is the server span of the callee.
    const calls = trace.rows
      .filter((r) => r.kind === 'client')
      .map((client) => {
        const servers = childrenOf(client);
        assert.equal(servers.length, 1, `${client.name} has one server child`);
        assert.equal(servers[0]!.kind, 'server');
        const parent = byId.get(client.parentSpanId!)!;
        assert.equal(
          parent.service,
          client.service,
          'a client span lives in the server span of its own service',
        );
        return `${client.service} → ${servers[0]!.service} ${servers[0]!.name}`;
      });
    assert.deepEqual(calls.sort(), [
      'orders → inventory POST /reservations',
      'orders → notifications POST /notify',
      'orders → payments POST /charges',
      'payments → ledger POST /entries',
      'web → orders POST /orders',
    ]);
    for (const row of trace.rows) {
      if (row.kind === 'internal') assert.match(row.name, /^discover /);
      assert.equal(row.error, false, `${row.name} did not fail`);
      assert.ok(
        row.depth === 0 || byId.get(row.parentSpanId!)!.depth === row.depth - 1,
        'depth follows parents',
      );
    }

    // Self times: each is its duration minus the union of its children (clipped to it)…
    const endOf = (r: WaterfallRow) => r.startMs + r.durationMs;
    for (const row of trace.rows) {
      const clipped = childrenOf(row)
        .map((c) => [Math.max(row.startMs, c.startMs), Math.min(endOf(row), endOf(c))] as const)
        .filter(([a, b]) => b > a)
        .sort((a, b) => a[0] - b[0]);
      let covered = 0;
      let cursor = row.startMs;
      for (const [a, b] of clipped) {
        covered += Math.max(0, b - Math.max(a, cursor));
        cursor = Math.max(cursor, b);
      }
      assert.ok(
        Math.abs(row.selfMs - (row.durationMs - covered)) < 0.005,
        `${row.name}: self = duration − children`,
      );
      assert.ok(row.selfMs >= 0 && row.selfMs <= row.durationMs + 0.001, `${row.name}: 0 ≤ self ≤ duration`);
    }
    // …so, calls being sequential, they add up to the whole trace, plus whatever ran past its
    // parent's end (the notification is sent without waiting for it).
    const outside = (row: WaterfallRow) => {
      const parent = byId.get(row.parentSpanId ?? '');
      if (!parent) return 0;
      return Math.max(0, parent.startMs - row.startMs) + Math.max(0, endOf(row) - endOf(parent));
    };
    const selfTotal = trace.rows.reduce((sum, r) => sum + r.selfMs, 0);
    const overrun = trace.rows.reduce((sum, r) => sum + Math.min(outside(r), r.durationMs), 0);
    assert.ok(
      Math.abs(selfTotal - overrun - root!.durationMs) < 0.002 * trace.rows.length,
      `self times ${selfTotal} − overrun ${overrun} = root ${root!.durationMs}`,
    );
    assert.equal(trace.durationMs >= root!.durationMs, true);

    // The search lists it, with web as its entry point.
    const { traces } = await get<{ traces: { traceId: string; root: { service: string; route: string } }[] }>(
      '/v1/traces?service=ledger&limit=50',
    );
    const listed = traces.find((t) => t.traceId === TRACE_ID);
    assert.deepEqual(listed?.root, { service: 'web', route: 'POST /api/checkout', complete: false });
  });

  it("roots a checkout that enters through the gateway at the gateway's own span", async () => {
    const logger = pino({ level: 'silent' });
    const spans = otlpSpanExport({
      urls: [plane.url],
      token: plane.gatewayToken,
      logger,
      instanceId: 'gateway-test',
      flushMs: 100,
    });
    const gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      source: controlPlaneSource({ url: plane.url, token: plane.gatewayToken, logger }),
      logger,
      accessLog: false,
      spans,
    });
    try {
      const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const caller = '1122334455667788';
      // Until its first snapshot arrives the gateway answers 503: wait for it off the trace,
      // on the storefront page, which calls no other service (the map test counts calls).
      await eventually(
        async () => ((await fetch(`${gateway.url}/`)).status === 200 ? true : undefined),
        20_000,
        'the gateway routes',
      );
      const response = await fetch(`${gateway.url}/api/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${caller}-01` },
        body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
      });
      assert.equal(response.status, 201, await response.text());
      const trace = await eventually(
        async () => {
          const t = await get<TraceJson>(`/v1/traces/${traceId}`);
          const services = new Set(t.rows.map((r) => r.service));
          return ['gateway', 'web', 'orders', 'inventory', 'payments', 'ledger'].every((s) => services.has(s))
            ? t
            : undefined;
        },
        20_000,
        'the gateway span and every service',
      );
      const [root] = trace.rows;
      assert.equal(root!.service, 'gateway');
      assert.equal(root!.kind, 'server');
      // Through web's catch-all route `/`: named by the path's template, not `POST /`.
      assert.equal(root!.name, 'POST /api/checkout');
      assert.equal(root!.parentSpanId, caller, "the caller's trace is continued");
      const web = trace.rows.find((r) => r.service === 'web' && r.kind === 'server')!;
      assert.equal(web.parentSpanId, root!.spanId, "web's server span hangs under the gateway's");
      assert.ok(root!.durationMs >= web.durationMs, 'the gateway span encloses the call it forwarded');
    } finally {
      await gateway.close();
      await spans.close();
    }
  });

  it('draws the calls on the live map with figures, and RED per route', async () => {
    const map = await eventually(
      async () => {
        const m = await get<LiveMapSnapshot>('/v1/map');
        return m.edges.some((e) => e.from === 'orders' && e.to === 'notifications' && e.observed)
          ? m
          : undefined;
      },
      15_000,
      'the map shows the checkout',
    );
    const edge = (from: string, to: string) => map.edges.find((e) => e.from === from && e.to === to);
    for (const [from, to] of [
      ['web', 'orders'],
      ['orders', 'inventory'],
      ['orders', 'payments'],
      ['payments', 'ledger'],
      ['orders', 'notifications'],
    ] as const) {
      const e = edge(from, to);
      assert.ok(e?.observed && e.declared, `${from} → ${to} observed and declared`);
      assert.ok(e.count >= 1 && e.p50Ms !== null && e.p99Ms !== null && e.errorRate === 0);
    }
    assert.deepEqual(map.drift.undeclared, []);
    // Checkout never lists the catalog: web → inventory is declared but unseen.
    assert.ok(map.drift.unobserved.some((e) => e.from === 'web' && e.to === 'inventory'));
    assert.deepEqual(map.cycles, []);

    const red = await get<{
      services: { service: string; routes: { route: string; totals: { count: number } }[] }[];
    }>('/v1/metrics/red?service=orders');
    const orders = red.services.find((s) => s.service === 'orders');
    assert.ok((orders?.routes.find((r) => r.route === 'POST /orders')?.totals.count ?? 0) >= 1);
    const exposition = await plane.telemetry.metrics.metrics();
    assert.match(
      exposition,
      /baton_service_requests_total\{service="orders",route="POST \/orders",outcome="ok"\} [1-9]/,
    );
    assert.match(
      exposition,
      /baton_edge_requests_total\{caller="payments",callee="ledger",outcome="ok"\} [1-9]/,
    );
  });

  it('reports a dependsOn entry that traffic still uses as drift, once the manifest drops it', async () => {
    const without = manifest.replace(/\n {4}dependsOn:\n {6}ledger: \^3\.0\.0\n/, '\n');
    assert.notEqual(without, manifest, 'the manifest declared payments → ledger');
    const applied = await plane.engine.apply({ text: without, baseDir: SHOP }, { author: 'test' });
    assert.equal(applied.applied, true);
    await converged();
    const since = Date.now();
    await checkout();
    const drift = await eventually(
      async () => {
        const m = await get<LiveMapSnapshot>('/v1/map');
        const e = m.drift.undeclared.find((d) => d.from === 'payments' && d.to === 'ledger');
        return m.revision === applied.revision.number && e && Date.parse(e.lastSeen!) >= since
          ? e
          : undefined;
      },
      15_000,
      'payments → ledger reported as undeclared',
    );
    assert.equal(drift.declared, false);
    assert.equal(drift.observed, true);
  });
});
