import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SseParser } from './sse-parser.ts';

describe('SseParser', () => {
  it('parses events, ignoring comments and joining data lines', () => {
    const parser = new SseParser();
    const events = parser.push(': ping\n\nevent: snapshot\nid: 7\ndata: {"a":\ndata: 1}\n\ndata: plain\n\n');
    assert.deepEqual(events, [
      { event: 'snapshot', data: '{"a":\n1}', id: '7' },
      { event: 'message', data: 'plain', id: '7' },
    ]);
  });

  it('gives the same events however the text is cut, with any line ending', () => {
    const text = 'event: snapshot\r\ndata: one\r\n\r\nevent: snapshot\rdata: two\r\rdata:three\n\n';
    const expected = new SseParser().push(text);
    assert.equal(expected.length, 3);
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const events = [];
        let from = 0;
        for (const p of [...points, text.length]) {
          events.push(...parser.push(text.slice(from, p)));
          from = p;
        }
        assert.deepEqual(events, expected);
      }),
    );
  });

  it('refuses an event larger than its limit', () => {
    const parser = new SseParser(10);
    assert.throws(() => parser.push('data: 0123456789abc'), /exceeds/);
  });
});
