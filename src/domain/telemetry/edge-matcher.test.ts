import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdgeMatcher } from './edge-matcher.ts';
import { spanOf } from './test-spans.ts';

const client = spanOf({
  id: 'c',
  parent: 'root',
  kind: 'client',
  service: 'orders',
  ms: 12,
  attributes: { 'peer.service': 'payments', 'http.response.status_code': 201 },
});
const server = spanOf({ id: 's', parent: 'c', kind: 'server', service: 'payments', at: 1, ms: 9 });

describe('EdgeMatcher', () => {
  it('pairs a client span with its server child whichever arrives first', () => {
    for (const order of [
      [client, server],
      [server, client],
    ]) {
      const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
      assert.equal(matcher.add(order[0]!, 0), undefined);
      assert.deepEqual(matcher.add(order[1]!, 5), {
        caller: 'orders',
        callee: 'payments',
        durationMs: 12,
        error: false,
        paired: true,
      });
      assert.deepEqual(matcher.counts(), { waitingClients: 0, waitingServers: 0, evicted: 0 });
    }
  });

  it('takes the callee from the server span, and an error from either side', () => {
    const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
    matcher.add({ ...client, attributes: { 'peer.service': 'wrong-name' } }, 0);
    const edge = matcher.add({ ...server, attributes: { 'http.response.status_code': 500 } }, 0);
    assert.equal(edge?.callee, 'payments');
    assert.equal(edge?.error, true);
  });

  it('names the callee from peer.service or the address when the server half never comes', () => {
    const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
    matcher.add(client, 0);
    matcher.add(
      {
        ...client,
        spanId: 'aaaaaaaaaaaaaaaa',
        attributes: { 'server.address': 'api.example.com', 'server.port': 443 },
        status: 'error',
      },
      0,
    );
    matcher.add({ ...client, spanId: 'bbbbbbbbbbbbbbbb', attributes: {} }, 0);
    matcher.add({ ...server, spanId: 'cccccccccccccccc', parentSpanId: 'dddddddddddddddd' }, 0);
    assert.deepEqual(matcher.expire(999), [], 'still within the wait');
    assert.deepEqual(
      matcher.expire(1_000).map((e) => [e.callee, e.error, e.paired]),
      [
        ['payments', false, false],
        ['api.example.com:443', true, false],
      ],
    );
    assert.deepEqual(matcher.counts(), { waitingClients: 0, waitingServers: 0, evicted: 0 });
  });

  it('ignores spans that cannot be half of a call', () => {
    const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
    assert.equal(matcher.add(spanOf({ id: 'i', parent: 'x', kind: 'internal' }), 0), undefined);
    assert.equal(
      matcher.add(spanOf({ id: 'r', kind: 'server' }), 0),
      undefined,
      'a root server span has no caller',
    );
    assert.deepEqual(matcher.counts(), { waitingClients: 0, waitingServers: 0, evicted: 0 });
  });

  it('holds at most maxPending halves, evicting the oldest', () => {
    const matcher = new EdgeMatcher({ windowMs: 60_000, maxPending: 3 });
    for (let i = 0; i < 5; i++) matcher.add({ ...client, spanId: `${i}`.repeat(16) }, i);
    assert.deepEqual(matcher.counts(), { waitingClients: 3, waitingServers: 0, evicted: 2 });
    assert.equal(
      matcher.add({ ...server, parentSpanId: '0'.repeat(16) }, 5),
      undefined,
      'the evicted one is gone',
    );
    assert.equal(matcher.add({ ...server, parentSpanId: '4'.repeat(16) }, 5)?.paired, true);
  });

  describe("the data plane's spans", () => {
    const dataPlane = (parent?: string) =>
      spanOf({
        id: 'dp',
        parent,
        kind: 'client',
        service: 'web',
        ms: 7,
        attributes: { 'baton.caller': 'web', 'baton.callee': 'hotel', 'http.response.status_code': 200 },
      });

    it('are an edge the moment they arrive, with no instrumentation on either side', () => {
      const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
      assert.deepEqual(matcher.add(dataPlane(), 0), {
        caller: 'web',
        callee: 'hotel',
        durationMs: 7,
        error: false,
        paired: true,
      });
      assert.deepEqual(matcher.expire(5_000), []);
    });

    it("count a traced call once: the caller's client span and the callee's server span pair with it silently", () => {
      for (const order of ['caller first', 'data plane first']) {
        const matcher = new EdgeMatcher({ windowMs: 1_000, maxPending: 10 });
        const callerSpan = spanOf({
          id: 'own',
          kind: 'client',
          service: 'web',
          attributes: { 'server.address': '127.0.0.1', 'server.port': 20417 },
        });
        const calleeSpan = spanOf({ id: 'srv', parent: 'dp', kind: 'server', service: 'hotel' });
        const edges = [];
        const spans =
          order === 'caller first'
            ? [callerSpan, dataPlane('own'), calleeSpan]
            : [dataPlane('own'), calleeSpan, callerSpan];
        for (const span of spans) {
          const edge = matcher.add(span, 0);
          if (edge) edges.push(edge);
        }
        edges.push(...matcher.expire(5_000));
        assert.deepEqual(
          edges.map((e) => `${e.caller}→${e.callee}`),
          ['web→hotel'],
          `${order}: no edge to the data plane's address, no second web→hotel`,
        );
      }
    });
  });
});
