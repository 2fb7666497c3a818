import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { accessLog } from './access-log.ts';
import type { AccessRecord } from './access-log.ts';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { stream, lines };
}

const record: AccessRecord = {
  reqId: 'req "quoted" \\ 1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: '',
  client: '127.0.0.1',
  method: 'GET',
  host: 'shop.example.com',
  path: '/caf\u00e9/\u0001',
  route: '/caf',
  service: 'shop',
  instance: 'shop-1',
  version: undefined,
  status: 200,
  outcome: 'ok',
  attempts: 1,
  bytesOut: 100,
  durationMs: 1.234,
};

describe('accessLog', () => {
  it('writes exactly the line pino itself would write', () => {
    const fixed = { timestamp: () => ',"time":42', base: { pid: 7, hostname: 'h' } };
    const fast = sink();
    const viaPino = sink();
    const log = accessLog(pino({ level: 'info', ...fixed }, fast.stream).child({ component: 'gateway' }));
    log.write(record);
    log.write(record);
    assert.equal(fast.lines.length, 0, 'lines wait for the end of the event-loop turn');
    log.flush();
    // A mixin makes the logger "not plain": the record goes through logger.info.
    accessLog(
      pino({ level: 'info', ...fixed, mixin: () => ({}) }, viaPino.stream).child({ component: 'gateway' }),
    ).write(record);
    assert.equal(fast.lines.length, 2);
    assert.equal(fast.lines[0], viaPino.lines[0]);
    const parsed = JSON.parse(fast.lines[0]!);
    assert.equal(parsed.reqId, record.reqId);
    assert.equal(parsed.path, record.path);
    assert.equal(parsed.parentSpanId, undefined);
    assert.equal(parsed.msg, 'request');
  });

  it('writes on its own at the end of the event-loop turn', async () => {
    const out = sink();
    accessLog(pino({ level: 'info' }, out.stream)).write(record);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(out.lines.length, 1);
  });

  it('sends every record through pino when the stream needs per-line metadata', () => {
    const out = sink();
    const logger = pino({ level: 'info' }, pino.multistream([{ stream: out.stream }]));
    accessLog(logger).write(record);
    assert.equal(out.lines.length, 1, 'written at once, by logger.info');
    assert.equal(JSON.parse(out.lines[0]!).reqId, record.reqId);
  });

  it('respects the level and can be turned off', () => {
    const quiet = sink();
    const warnOnly = accessLog(pino({ level: 'warn' }, quiet.stream));
    assert.equal(warnOnly.enabled(), false);
    warnOnly.write(record);
    accessLog(false).write(record);
    assert.deepEqual(quiet.lines, []);
  });
});
