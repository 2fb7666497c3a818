/// <reference types="node" />
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from './sse-parser.ts';

describe('SseParser', () => {
  it('parses named events with ids, multi-line data and comments', () => {
    const parser = new SseParser();
    const messages = parser.feed(': ping\n\nid: 7\nevent: event\ndata: {"a":1}\ndata: second\n\n');
    assert.deepEqual(messages, [{ event: 'event', data: '{"a":1}\nsecond', lastEventId: '7' }]);
    assert.equal(parser.lastEventId, '7');
  });

  it('gives the same messages however the text is split, with \\n, \\r\\n or \\r line ends', () => {
    const text = 'id: 1\r\ndata: one\r\n\r\nid: 2\rdata: two\r\rdata:three\n\n';
    const whole = new SseParser().feed(text);
    assert.deepEqual(
      whole.map((m) => [m.lastEventId, m.data]),
      [
        ['1', 'one'],
        ['2', 'two'],
        ['2', 'three'],
      ],
    );
    for (let size = 1; size <= 5; size++) {
      const parser = new SseParser();
      const pieces = [];
      for (let i = 0; i < text.length; i += size) pieces.push(...parser.feed(text.slice(i, i + size)));
      assert.deepEqual(pieces, whole, `chunks of ${size}`);
    }
  });

  it('does not dispatch an event without data, nor an unfinished one', () => {
    const parser = new SseParser('3');
    assert.deepEqual(parser.feed('event: x\n\nid: 4\n\ndata: half'), []);
    assert.equal(parser.lastEventId, '4', 'an id without data still moves the resume point');
    assert.deepEqual(parser.feed('\n\n'), [{ event: 'message', data: 'half', lastEventId: '4' }]);
  });

  it('moves the resume point only when an event ends, so a torn one is asked for again', () => {
    const parser = new SseParser();
    parser.feed('id: 1\ndata: one\n\nid: 2\ndata: tw');
    assert.equal(parser.lastEventId, '1');
  });

  it('reads retry only when it is a number, and strips one leading space of values', () => {
    const parser = new SseParser();
    parser.feed('retry: soon\n');
    assert.equal(parser.retry, undefined);
    const [message] = parser.feed('retry: 2500\ndata:  two spaces\n\n');
    assert.equal(parser.retry, 2500);
    assert.equal(message?.data, ' two spaces');
  });
});
