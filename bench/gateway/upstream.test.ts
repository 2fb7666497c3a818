import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamBody } from './upstream.ts';

describe('upstreamBody', () => {
  it('is 100 bytes of JSON', () => {
    const body = upstreamBody();
    assert.equal(body.length, 100);
    assert.equal(JSON.parse(body.toString()).service, 'bench');
  });
});
