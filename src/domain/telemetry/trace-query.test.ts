import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseSearchDuration, parseSearchTime } from './trace-query.ts';

it('reads search durations (ms by default) and times (ISO or epoch ms) as microseconds', () => {
  assert.equal(parseSearchDuration('250'), 250_000);
  assert.equal(parseSearchDuration('1.5s'), 1_500_000);
  assert.equal(parseSearchDuration('800us'), 800);
  assert.equal(parseSearchDuration('2m'), 120_000_000);
  assert.equal(parseSearchDuration('fast'), undefined);
  assert.equal(parseSearchDuration('-5ms'), undefined);
  assert.equal(parseSearchTime('2024-01-02T03:04:05.678Z'), Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000);
  assert.equal(parseSearchTime('1700000000000'), 1_700_000_000_000_000);
  assert.equal(parseSearchTime('soon'), undefined);
});
