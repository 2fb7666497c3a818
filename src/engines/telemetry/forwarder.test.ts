import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../../../test/support/eventually.ts';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../ports/clock.ts';
import { OtlpForwarder, type ForwardResult } from './forwarder.ts';

/** A collector that holds every response until released. */
async function slowCollector() {
  const held: ServerResponse[] = [];
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      bodies.push(body);
      held.push(response);
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    held,
    bodies,
    release: () => held.splice(0).forEach((r) => r.writeHead(200).end()),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const until = (check: () => boolean) =>
  eventually(check, { what: 'the forwarder', timeoutMs: 5_000, intervalMs: 10 });

describe('OtlpForwarder', () => {
  it('sends in order with bounded concurrency, and drops (counting) once the queue is full', async () => {
    const collector = await slowCollector();
    const results: ForwardResult[] = [];
    const forwarder = new OtlpForwarder({
      url: collector.url,
      concurrency: 1,
      maxQueued: 2,
      logger: pino({ level: 'silent' }),
      clock: systemClock,
      onResult: (r) => results.push(r),
    });
    const body = (n: number) => new TextEncoder().encode(`request ${n}`);
    assert.equal(forwarder.enqueue(body(1), 'application/json', undefined), true);
    await until(() => collector.held.length === 1); // 1 in flight
    assert.equal(forwarder.enqueue(body(2), 'application/json', undefined), true);
    assert.equal(forwarder.enqueue(body(3), 'application/json', undefined), true);
    assert.equal(forwarder.enqueue(body(4), 'application/json', undefined), false, 'queue of 2 is full');
    assert.deepEqual(forwarder.stats(), { queued: 2, sent: 0, failed: 0, dropped: 1 });
    while (forwarder.stats().sent < 3) {
      collector.release();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(collector.bodies, ['request 1', 'request 2', 'request 3']);
    assert.deepEqual(results.sort(), ['dropped', 'sent', 'sent', 'sent']);
    await forwarder.close();
    await collector.close();
  });

  it('counts a refusing or unreachable endpoint as failed, and never throws', async () => {
    const collector = await slowCollector();
    const forwarder = new OtlpForwarder({
      url: collector.url.replace(/:\d+\//, ':1/'),
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });
    forwarder.enqueue(new Uint8Array(3), 'application/x-protobuf', 'gzip');
    await until(() => forwarder.stats().failed === 1);
    await forwarder.close();
    await collector.close();
  });

  it('gives up on what is in flight at close, after the deadline', async () => {
    const collector = await slowCollector();
    const forwarder = new OtlpForwarder({
      url: collector.url,
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });
    forwarder.enqueue(new Uint8Array(3), 'application/x-protobuf', undefined);
    forwarder.enqueue(new Uint8Array(3), 'application/x-protobuf', undefined);
    await until(() => collector.held.length === 2);
    forwarder.enqueue(new Uint8Array(3), 'application/x-protobuf', undefined);
    await forwarder.close(50);
    assert.deepEqual(forwarder.stats(), { queued: 0, sent: 0, failed: 2, dropped: 1 });
    assert.equal(forwarder.enqueue(new Uint8Array(3), 'application/x-protobuf', undefined), false);
    collector.release();
    await collector.close();
  });
});
