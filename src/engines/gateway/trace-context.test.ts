import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidTraceparent, newSpanId, newTraceId, requestIdFrom } from './trace-context.ts';

describe('trace context', () => {
  it('accepts a well-formed traceparent and rejects malformed or all-zero ones', () => {
    assert.equal(isValidTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), true);
    assert.equal(isValidTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'), true);
    for (const bad of [
      '',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    ]) {
      assert.equal(isValidTraceparent(bad), false, bad);
    }
  });

  it('creates ids of the right size, different each time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newTraceId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.match(newSpanId(), /^[0-9a-f]{16}$/);
  });

  it('keeps a usable request id and replaces anything else', () => {
    assert.equal(requestIdFrom('abc-123'), 'abc-123');
    assert.match(requestIdFrom(undefined), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom('has space'), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom('x'.repeat(201)), /^[0-9a-f-]{36}$/);
  });
});
