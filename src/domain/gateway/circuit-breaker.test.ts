import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, DENY, PASS, PROBE } from './circuit-breaker.ts';
import type { BreakerPolicy } from './circuit-breaker.ts';

const policy: BreakerPolicy = { errorRatePercent: 50, minRequests: 10, windowMs: 10_000, openForMs: 5_000 };

function feed(breaker: CircuitBreaker, now: number, ok: number, failed: number): void {
  for (let i = 0; i < ok; i++) breaker.record(breaker.allow(now), true, now);
  for (let i = 0; i < failed; i++) breaker.record(breaker.allow(now), false, now);
}

describe('CircuitBreaker', () => {
  it('stays closed below the minimum number of requests, however many fail', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 9);
    assert.equal(breaker.state, 'closed');
    feed(breaker, 0, 0, 1);
    assert.equal(breaker.state, 'open');
  });

  it('opens only when the error rate exceeds the threshold', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 10, 10);
    assert.equal(breaker.state, 'closed');
    feed(breaker, 0, 0, 1);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(1000), DENY);
    assert.equal(breaker.retryAfterMs(1000), 4000);
  });

  it('forgets failures older than the window', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 9);
    feed(breaker, 11_000, 5, 5);
    assert.equal(breaker.state, 'closed');
  });

  it('half-opens after the open time with a single probe, which closes it on success', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 10);
    assert.equal(breaker.allow(4_999), DENY);
    const probe = breaker.allow(5_000);
    assert.equal(probe, PROBE);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.allow(5_001), DENY);
    breaker.record(probe, true, 5_010);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allow(5_020), PASS);
    // The window restarted: old failures do not count against the closed circuit.
    feed(breaker, 5_030, 0, 9);
    assert.equal(breaker.state, 'closed');
  });

  it('opens again when the probe fails, for another full open time', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 10);
    const probe = breaker.allow(6_000);
    breaker.record(probe, false, 6_100);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(11_000), DENY);
    assert.equal(breaker.allow(11_100), PROBE);
  });

  it('lets another request probe when the probe is abandoned', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 10);
    const probe = breaker.allow(5_000);
    breaker.abandon(probe);
    assert.equal(breaker.allow(5_001), PROBE);
  });

  it('ignores late outcomes of attempts admitted before it opened', () => {
    const breaker = new CircuitBreaker(policy);
    feed(breaker, 0, 0, 10);
    breaker.record(PASS, false, 100);
    breaker.record(PASS, true, 100);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterMs(100), 4_900);
  });
});
