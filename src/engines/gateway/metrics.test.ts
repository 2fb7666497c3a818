import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { GatewayMetrics } from './metrics.ts';

const gauges = { inFlight: () => 3, sequence: () => 7, loopDelayMs: () => 12 };
const SAMPLES = [0.0004, 0.001, 0.003, 0.02, 0.02, 0.7, 12, 45];

/** The lines of one metric family in the text format, for comparison. */
function family(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_`) || l.startsWith(`${name}{`))
    .sort();
}

describe('GatewayMetrics', () => {
  it('renders latency exactly as a prom-client histogram fed the same samples would', async () => {
    const metrics = new GatewayMetrics(gauges);
    const api = metrics.route('/api', 'shop');
    for (const s of SAMPLES) api.answered(200, s, '');
    metrics.route('/idle', 'shop');

    const reference = new Registry();
    const histogram = new Histogram({
      name: 'baton_gateway_request_duration_seconds',
      help: 'x',
      labelNames: ['route', 'service'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [reference],
    });
    for (const s of SAMPLES) histogram.labels('/api', 'shop').observe(s);
    histogram.zero({ route: '/idle', service: 'shop' });

    const name = 'baton_gateway_request_duration_seconds';
    const normalise = (lines: string[]) =>
      lines.map((l) => l.replace(/\{le="([^"]+)",(.*)\}/, '{$2,le="$1"}')).sort();
    assert.deepEqual(
      normalise(family(await metrics.registry.metrics(), name)),
      normalise(family(await reference.metrics(), name)),
    );
  });

  it('counts requests by status class, as they happen, across reads', async () => {
    const metrics = new GatewayMetrics(gauges);
    const route = metrics.route('/api', 'shop');
    route.answered(200, 0.01, '');
    route.answered(204, 0.01, '');
    route.answered(503, 0.01, 'no-healthy-instance');
    let text = await metrics.registry.metrics();
    assert.match(text, /baton_gateway_requests_total\{route="\/api",service="shop",code="2xx"\} 2/);
    assert.match(text, /baton_gateway_requests_total\{route="\/api",service="shop",code="5xx"\} 1/);
    assert.match(
      text,
      /baton_gateway_errors_total\{route="\/api",service="shop",reason="no-healthy-instance"\} 1/,
    );
    route.answered(200, 0.01, '');
    text = await metrics.registry.metrics();
    assert.match(text, /code="2xx"\} 3/);
    assert.match(text, /baton_gateway_in_flight 3/);
    assert.match(text, /baton_gateway_snapshot_sequence 7/);
  });

  it('adds up across cluster workers', async () => {
    const worker = async (n: number) => {
      const metrics = new GatewayMetrics(gauges);
      const route = metrics.route('/api', 'shop');
      for (let i = 0; i < n; i++) route.answered(200, 0.003, '');
      return metrics.registry.getMetricsAsJSON();
    };
    const total = AggregatorRegistry.aggregate([await worker(2), await worker(3)]);
    const text = await total.metrics();
    assert.match(text, /baton_gateway_requests_total\{route="\/api",service="shop",code="2xx"\} 5/);
    assert.match(text, /baton_gateway_request_duration_seconds_count\{route="\/api",service="shop"\} 5/);
    assert.match(
      text,
      /baton_gateway_request_duration_seconds_bucket\{route="\/api",service="shop",le="0.005"\} 5/,
    );
    assert.match(text, /baton_gateway_snapshot_sequence 7/, 'the sequence is the minimum, not a sum');
  });
});
