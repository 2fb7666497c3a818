import assert from 'node:assert/strict';
import { it } from 'node:test';
import { revisionOutcomes } from './revision-outcome.ts';

it('tells converged, failed, rolled back, superseded and in-progress revisions apart', () => {
  const outcomes = revisionOutcomes([6, 5, 4, 3, 2, 1], 6, [
    { kind: 'revision.converged', revision: 1 },
    { kind: 'rollout.failed', revision: 3, data: { rollbackTo: 1 } },
    { kind: 'revision.converged', revision: 4 },
    { kind: 'rollout.failed', revision: 5, data: { rollbackTo: null } },
    { kind: 'revision.converged', revision: null },
  ]);
  assert.deepEqual(Object.fromEntries(outcomes), {
    1: 'converged',
    2: 'superseded',
    3: 'rolled-back',
    4: 'converged',
    5: 'failed',
    6: 'in-progress',
  });
});

it('counts a revision that failed and later converged (an operator fixed it) as converged', () => {
  const outcomes = revisionOutcomes([2], 2, [
    { kind: 'rollout.failed', revision: 2, data: { rollbackTo: null } },
    { kind: 'revision.converged', revision: 2 },
  ]);
  assert.equal(outcomes.get(2), 'converged');
});
