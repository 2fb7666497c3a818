import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_RED_OPTIONS,
  OTHER,
  RedAggregator,
  dataPlaneSampleOf,
  mergeReports,
  redSampleOf,
} from './red.ts';
import { spanOf } from './test-spans.ts';

const NOW = 1_700_000_000_000 + 5_000;

describe('RED figures', () => {
  it('takes server spans only, by route template, timed at their end', () => {
    const server = spanOf({
      id: 's',
      kind: 'server',
      service: 'orders',
      ms: 40,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/orders/:id',
        'http.response.status_code': 503,
      },
    });
    assert.deepEqual(redSampleOf(server), {
      service: 'orders',
      route: 'GET /orders/:id',
      atMs: 1_700_000_000_040,
      durationMs: 40,
      error: true,
    });
    assert.equal(redSampleOf({ ...server, kind: 'client' }), undefined);
    assert.equal(redSampleOf({ ...server, attributes: {} })?.route, 's', 'no route: the span name');
  });

  it("never counts Baton's health probes", () => {
    const probe = spanOf({
      id: 'p',
      kind: 'server',
      service: 'orders',
      ms: 1,
      attributes: { 'http.route': '/healthz', 'user_agent.original': 'baton-probe/0.1' },
    });
    assert.equal(redSampleOf(probe), undefined);
    const browser = { ...probe, attributes: { ...probe.attributes, 'user_agent.original': 'Mozilla/5.0' } };
    assert.equal(redSampleOf(browser)?.route, '/healthz');
  });

  it('reports per service and route, with a service total merged from its routes', () => {
    const red = new RedAggregator();
    const sample = (route: string, error: boolean) => ({
      service: 'orders',
      route,
      atMs: NOW,
      durationMs: 10,
      error,
    });
    red.record(sample('GET /orders', false), NOW);
    red.record(sample('GET /orders', true), NOW);
    red.record(sample('POST /orders', false), NOW);
    red.record({ ...sample('GET /stock', false), service: 'inventory' }, NOW);
    const report = red.report(NOW, 'orders');
    assert.equal(report.slotSeconds, 10);
    assert.equal(report.windowSeconds, 900);
    assert.deepEqual(
      report.services.map((s) => [
        s.service,
        s.totals.count,
        s.totals.errors,
        s.routes.map((r) => [r.route, r.totals.count]),
      ]),
      [
        [
          'orders',
          3,
          1,
          [
            ['GET /orders', 2],
            ['POST /orders', 1],
          ],
        ],
      ],
    );
    assert.equal(report.services[0]!.series.length, 90);
    assert.equal(report.services[0]!.series.at(-1)!.count, 3);
    assert.deepEqual(
      red.report(NOW).services.map((s) => s.service),
      ['inventory', 'orders'],
    );
  });

  it('counts routes and services past their caps under one bucket, and forgets what left the window', () => {
    const red = new RedAggregator({ slotMs: 10_000, slots: 3, maxRoutesPerService: 2, maxServices: 2 });
    const at = (service: string, route: string) =>
      red.record({ service, route, atMs: NOW, durationMs: 1, error: false }, NOW);
    assert.deepEqual(
      ['GET /a/1', 'GET /a/2', 'GET /a/3', 'GET /a/4'].map((route) => at('x', route).route),
      ['GET /a/1', 'GET /a/2', OTHER, OTHER],
    );
    assert.deepEqual(at('y', 'GET /'), { service: 'y', route: 'GET /' });
    assert.deepEqual(at('spoofed-1', 'GET /'), { service: OTHER, route: 'GET /' });
    assert.deepEqual(at('spoofed-2', 'GET /'), { service: OTHER, route: 'GET /' });
    red.prune(NOW + 60_000);
    assert.deepEqual(red.report(NOW + 60_000).services, []);
  });

  it("falls back to the data plane's view for a service that sends no spans, and never counts one twice", () => {
    const own = new RedAggregator(DEFAULT_RED_OPTIONS);
    const observed = new RedAggregator(DEFAULT_RED_OPTIONS);
    const call = spanOf({
      id: 'dp',
      kind: 'client',
      service: 'web',
      attributes: {
        'baton.caller': 'web',
        'baton.callee': 'hotel',
        'http.request.method': 'GET',
        'http.route': '/rooms/{id}',
        'http.response.status_code': 503,
      },
    });
    const sample = dataPlaneSampleOf(call)!;
    assert.deepEqual([sample.service, sample.route, sample.error], ['hotel', 'GET /rooms/{id}', true]);
    const now = sample.atMs;
    observed.record(sample, now);
    observed.record({ ...sample, service: 'orders' }, now);
    own.record({ ...sample, service: 'orders', route: 'GET /own' }, now);
    const merged = mergeReports(own.report(now), observed.report(now));
    assert.deepEqual(
      merged.services.map((s) => [s.service, s.routes.map((r) => r.route)]),
      [
        ['hotel', ['GET /rooms/{id}']],
        ['orders', ['GET /own']],
      ],
    );
    assert.equal(redSampleOf(call), undefined, 'a client span is no RED sample of its own');
  });
});
