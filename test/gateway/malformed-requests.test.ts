// A client's malformed request is the client's problem (issue 11, finding 4): the gateway
// answers 4xx problem+json before forwarding anything, and never counts it against the
// service. Before, a duplicated Host made the upstream client throw; the gateway answered
// 502 after three attempts, counted them as upstream failures, ejected instances and
// opened the breaker, and most normal requests got 503.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import { gatewayWith, parseRaw, rawExchange, send, snapshotOf, startUpstream } from './support.ts';

const portOf = (url: string) => Number(new URL(url).port);

function metric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) total += Number(line.split(' ').pop());
  return total;
}

describe('malformed requests', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let gateway: GatewayHandle;
  const metrics = async () => (await send(`${gateway.adminUrl}/metrics`)).text;

  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    // The default policies: five failures in a row eject, 50% errors over 20 requests open.
    gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: [a, b] } } })),
      { adminPort: 0 },
    );
  });
  after(async () => {
    await gateway.close();
    await a.close();
    await b.close();
  });

  const cases: [name: string, request: string, status: number, code: string][] = [
    ['a duplicated Host', 'GET /x HTTP/1.1\r\nHost: shop\r\nHost: evil\r\n\r\n', 400, 'bad-request'],
    [
      'a Host repeated with the same value',
      'GET /x HTTP/1.1\r\nHost: shop\r\nhost: shop\r\n\r\n',
      400,
      'bad-request',
    ],
    ['no Host in HTTP/1.1', 'GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n', 400, 'bad-request'],
    ['a Host that is no host', 'GET /x HTTP/1.1\r\nHost: a b/c\r\n\r\n', 400, 'bad-request'],
    [
      'an absolute-form target',
      'GET http://internal.example/x HTTP/1.1\r\nHost: shop\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'a path climbing above the root',
      'GET /a/../../etc/passwd HTTP/1.1\r\nHost: shop\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'two Content-Lengths',
      'POST /x HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi',
      400,
      'bad-request',
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST /x HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'a Transfer-Encoding that is not chunked',
      'POST /x HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: gzip\r\n\r\nhi',
      400,
      'bad-request',
    ],
    [
      'chunked twice',
      'POST /x HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'a control character in a header value',
      'GET /x HTTP/1.1\r\nHost: shop\r\nX-A: a\x7fb\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'an invalid version pin',
      'GET /x HTTP/1.1\r\nHost: shop\r\nx-baton-version: latest!\r\n\r\n',
      400,
      'bad-request',
    ],
    [
      'CONNECT',
      'CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n',
      405,
      'method-not-allowed',
    ],
  ];

  for (const [name, request, status, code] of cases) {
    it(`answers ${name} with ${status} problem+json, forwarding nothing`, async () => {
      const seen = a.seen.length + b.seen.length;
      const answer = parseRaw(await rawExchange(portOf(gateway.url), Buffer.from(request, 'latin1')));
      assert.equal(answer.status, status);
      assert.equal(answer.headers['content-type'], 'application/problem+json');
      assert.equal(JSON.parse(answer.body).code, code);
      assert.equal(a.seen.length + b.seen.length, seen, 'nothing reached an upstream');
    });
  }

  it('under load, duplicated-Host requests mixed into normal traffic eject nothing and open no circuit', async () => {
    const clients = 8;
    const perClient = 60;
    const attacks = 300;
    const port = portOf(gateway.url);
    const attack = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < attacks / 10; i++) {
        const raw = await rawExchange(
          port,
          `GET /x${i} HTTP/1.1\r\nHost: shop\r\nHost: evil\r\nConnection: close\r\n\r\n`,
        );
        statuses.push(parseRaw(raw).status);
      }
      return statuses;
    };
    const normal = async (client: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < perClient; i++)
        statuses.push((await send(`${gateway.url}/c${client}/${i}`)).status);
      return statuses;
    };
    const [attackers, clientsStatuses] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, attack)),
      Promise.all(Array.from({ length: clients }, (_, c) => normal(c))),
    ]);
    assert.deepEqual(new Set(attackers.flat()), new Set([400]), 'every malformed request got 400');
    assert.equal(attackers.flat().length, attacks);
    const answered = clientsStatuses.flat();
    assert.deepEqual(new Set(answered), new Set([200]), 'every normal request succeeded');
    assert.equal(answered.length, clients * perClient);

    const text = await metrics();
    assert.equal(metric(text, 'baton_gateway_ejections_total'), 0, 'no instance ejected');
    assert.equal(metric(text, 'baton_gateway_retries_total'), 0, 'nothing retried');
    assert.doesNotMatch(text, /reason="(circuit-open|upstream-failed)"/);
  });
});
