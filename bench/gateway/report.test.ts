import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markdown, middle, ratios, summarize, type Run } from './report.ts';

function run(target: string, round: number, rps: number, p99Ms: number, proxy?: number): Run {
  return {
    target,
    round,
    requests: rps * 10,
    requestsPerSecond: rps,
    p50Ms: 1,
    p99Ms,
    errors: 0,
    cpu: { proxy, upstream: 5, wrk: 4, other: 1, wallSeconds: 10 },
  };
}

describe('middle', () => {
  it('is the middle sample of an odd count and the mean of the middle two of an even one', () => {
    assert.equal(middle([3, 1, 2]), 2);
    assert.equal(middle([10, 4]), 7);
  });
});

describe('summarize', () => {
  it('gives CPU as percent of one core and per request', () => {
    const s = summarize('baton', [run('baton', 1, 10_000, 5, 8), run('baton', 2, 12_000, 7, 9)]);
    assert.equal(s.requestsPerSecond, 11_000);
    assert.equal(s.proxyCpuPercent, 85);
    // 8 s for 100k requests = 80 µs; 9 s for 120k = 75 µs.
    assert.equal(s.proxyMicrosPerRequest, 77.5);
    assert.equal(s.upstreamCpuPercent, 50);
  });

  it('has no proxy CPU for the direct path', () => {
    assert.equal(summarize('direct', [run('direct', 1, 30_000, 2)]).proxyMicrosPerRequest, undefined);
  });
});

describe('ratios', () => {
  it('checks the goals and pairs runs by round', () => {
    const list = ratios([
      summarize('undici-minimal', [run('undici-minimal', 1, 10_000, 8), run('undici-minimal', 2, 12_000, 8)]),
      summarize('baton', [run('baton', 1, 9_500, 9.5), run('baton', 2, 10_000, 9.5)]),
    ]);
    assert.equal(list.length, 2);
    const [throughput, p99] = list;
    assert.equal(throughput!.value, 9_750 / 11_000);
    assert.deepEqual(throughput!.perRound, [0.95, 10_000 / 12_000]);
    assert.equal(throughput!.met, false);
    assert.equal(p99!.value, 1.5);
    assert.equal(p99!.met, false);
    assert.match(markdown([], list), /\*\*not met\*\*/);
  });
});
