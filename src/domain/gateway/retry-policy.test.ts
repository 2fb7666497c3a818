import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MIN_RETRIES_PER_SECOND,
  RETRY_WINDOW_MS,
  ATTEMPT_ERROR,
  RetryBudget,
  attemptErrorOf,
  isIdempotent,
  retryBackoff,
  retryStatuses,
} from './retry-policy.ts';

const RESERVE = (MIN_RETRIES_PER_SECOND * RETRY_WINDOW_MS) / 1000;

describe('RetryBudget', () => {
  it('allows the minimum however little traffic there is', () => {
    const budget = new RetryBudget(20);
    let granted = 0;
    while (budget.tryAcquire(0)) granted++;
    assert.equal(granted, RESERVE);
  });

  it('allows a share of the requests on top of the minimum', () => {
    const budget = new RetryBudget(20);
    for (let i = 0; i < 500; i++) budget.recordRequest(100);
    let granted = 0;
    while (budget.tryAcquire(200)) granted++;
    assert.equal(granted, 100 + RESERVE);
  });

  it('forgets requests and retries older than its window', () => {
    const budget = new RetryBudget(20);
    for (let i = 0; i < 500; i++) budget.recordRequest(0);
    while (budget.tryAcquire(0));
    assert.equal(budget.tryAcquire(RETRY_WINDOW_MS / 2), false);
    let granted = 0;
    while (budget.tryAcquire(RETRY_WINDOW_MS + 1)) granted++;
    assert.equal(granted, RESERVE, 'a fresh window: only the minimum, the old requests are gone');
  });

  it('never grants more retries in a window than the share of its requests plus the minimum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 400 }),
        (percent, ops) => {
          const budget = new RetryBudget(percent);
          const log: { at: number; retry: boolean }[] = [];
          let now = 0;
          for (const [isRetry, gap] of ops) {
            now += gap;
            if (!isRetry) {
              budget.recordRequest(now);
              log.push({ at: now, retry: false });
            } else if (budget.tryAcquire(now)) log.push({ at: now, retry: true });
            // The budget sees between 9 and 10 s back, depending on where `now` falls in its
            // 1 s slices: so retries of the last 9 s are bounded by requests of the last 10 s.
            const slice = RETRY_WINDOW_MS / 10;
            const requests = log.filter((e) => !e.retry && e.at > now - RETRY_WINDOW_MS).length;
            const retries = log.filter((e) => e.retry && e.at > now - RETRY_WINDOW_MS + slice).length;
            assert.ok(retries <= Math.floor((requests * percent) / 100) + RESERVE);
          }
        },
      ),
    );
  });
});

describe('retryBackoff', () => {
  it('grows exponentially with jitter and stays under ten times the base', () => {
    assert.equal(
      retryBackoff(1, 100, () => 0),
      50,
    );
    assert.equal(
      retryBackoff(1, 100, () => 0.999999),
      100,
    );
    assert.equal(
      retryBackoff(2, 100, () => 0),
      100,
    );
    assert.equal(
      retryBackoff(3, 100, () => 0),
      200,
    );
    assert.equal(
      retryBackoff(20, 100, () => 0.999999),
      1000,
    );
    assert.equal(
      retryBackoff(1, 0, () => 0.5),
      0,
    );
  });
});

describe('what is retried', () => {
  it('retries only idempotent methods', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) assert.equal(isIdempotent(m), true);
    for (const m of ['POST', 'PATCH', 'CONNECT']) assert.equal(isIdempotent(m), false);
  });

  it('retries 502, 503 and 504 by default, never a plain 500 or a 4xx unless the route says so', () => {
    const defaults = retryStatuses(undefined);
    assert.deepEqual([...defaults].sort(), [502, 503, 504]);
    for (const status of [200, 400, 404, 429, 500, 501])
      assert.equal(defaults.has(status), false, `${status}`);
    const opted = retryStatuses([500, 429]);
    assert.equal(opted.has(500), true);
    assert.equal(opted.has(429), true);
    assert.equal(opted.has(503), true, 'the defaults stay');
  });

  it('ignores statuses another attempt cannot change', () => {
    assert.deepEqual([...retryStatuses([200, 404, 400, 302, 500.5])].sort(), [502, 503, 504]);
  });

  it("tells the client's fault, connect failures and resets apart", () => {
    assert.equal(attemptErrorOf('UND_ERR_INVALID_ARG'), ATTEMPT_ERROR.request);
    assert.equal(attemptErrorOf('UND_ERR_NOT_SUPPORTED'), ATTEMPT_ERROR.request);
    assert.equal(attemptErrorOf('ECONNREFUSED'), ATTEMPT_ERROR.connect);
    assert.equal(attemptErrorOf('UND_ERR_CONNECT_TIMEOUT'), ATTEMPT_ERROR.connect);
    assert.equal(attemptErrorOf('ECONNRESET'), ATTEMPT_ERROR.reset);
    assert.equal(attemptErrorOf('UND_ERR_SOCKET'), ATTEMPT_ERROR.reset);
    assert.equal(attemptErrorOf('HPE_INVALID_CONSTANT'), ATTEMPT_ERROR.other);
    assert.equal(attemptErrorOf(undefined), ATTEMPT_ERROR.other);
  });
});
