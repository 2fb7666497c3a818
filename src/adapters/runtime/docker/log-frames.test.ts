import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LogFrames, splitTimestamp } from './log-frames.ts';

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('LogFrames', () => {
  it('splits frames into lines per stream, holding partial lines until their end', () => {
    const frames = new LogFrames();
    assert.deepEqual(frames.push(Buffer.concat([frame(1, 'one\ntw'), frame(2, 'warn\r\n')])), [
      { stream: 'stdout', line: 'one' },
      { stream: 'stderr', line: 'warn' },
    ]);
    assert.deepEqual(frames.push(frame(1, 'o\n')), [{ stream: 'stdout', line: 'two' }]);
    assert.deepEqual(frames.push(frame(2, 'no newline')), []);
    assert.deepEqual(frames.end(), [{ stream: 'stderr', line: 'no newline' }]);
  });

  it('reads the same lines however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.string({ unit: 'grapheme' })), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 40 }),
        (written, cuts) => {
          const bytes = Buffer.concat(written.map(([type, text]) => frame(type, text)));
          const whole = new LogFrames();
          const expected = [...whole.push(bytes), ...whole.end()];
          const pieces = new LogFrames();
          const got = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const size = cuts[i % cuts.length]!;
            got.push(...pieces.push(bytes.subarray(at, at + size)));
            at += size;
          }
          got.push(...pieces.end());
          assert.deepEqual(got, expected);
        },
      ),
    );
  });
});

describe('splitTimestamp', () => {
  it('pads the fraction so that times compare as strings', () => {
    assert.deepEqual(splitTimestamp('2026-12-03T09:00:00.1234Z hello'), {
      time: '2026-12-03T09:00:00.123400000Z',
      text: 'hello',
    });
    assert.deepEqual(splitTimestamp('2026-12-03T09:00:00Z '), {
      time: '2026-12-03T09:00:00.000000000Z',
      text: '',
    });
    assert.ok(
      splitTimestamp('2026-12-03T09:00:00.1234Z a').time <
        splitTimestamp('2026-12-03T09:00:00.12345Z b').time,
    );
    assert.deepEqual(splitTimestamp('no stamp'), { time: '', text: 'no stamp' });
  });
});
