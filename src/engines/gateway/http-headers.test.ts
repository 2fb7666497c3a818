import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  REQ,
  clientAddress,
  connectionTokens,
  forwardedElement,
  requestHeaderKind,
  responseHeaders,
} from './http-headers.ts';

describe('requestHeaderKind', () => {
  it('classifies the headers the gateway handles, in any case', () => {
    const expected: Record<string, number> = {
      'Transfer-Encoding': REQ.transferEncoding,
      CONNECTION: REQ.connection,
      'keep-alive': REQ.hop,
      TE: REQ.hop,
      Trailer: REQ.hop,
      'Proxy-Authorization': REQ.hop,
      'Proxy-Connection': REQ.hop,
      'X-Baton-Attempt': REQ.hop,
      Upgrade: REQ.upgrade,
      Host: REQ.host,
      Expect: REQ.expect,
      'X-Forwarded-For': REQ.xForwardedFor,
      'X-Forwarded-Proto': REQ.xForwardedOwn,
      'X-Forwarded-Host': REQ.xForwardedOwn,
      Forwarded: REQ.forwarded,
      Traceparent: REQ.traceparent,
      'X-Request-Id': REQ.requestId,
      'Content-Length': REQ.contentLength,
      'X-Baton-Version': REQ.versionPin,
      'User-Agent': REQ.other,
      Authorization: REQ.other,
      'X-Forwarded-Fox': REQ.other,
    };
    for (const [name, kind] of Object.entries(expected)) assert.equal(requestHeaderKind(name), kind, name);
  });
});

describe('connectionTokens', () => {
  it('names the extra hop-by-hop headers a Connection header lists', () => {
    assert.equal(connectionTokens('keep-alive'), undefined);
    assert.equal(connectionTokens('Close'), undefined);
    assert.deepEqual(connectionTokens('keep-alive, X-Private ,x-other'), ['x-private', 'x-other']);
  });
});

describe('responseHeaders', () => {
  it('drops hop-by-hop headers and those Connection names, keeps the rest in order', () => {
    const raw = [
      ['Content-Type', 'text/plain'],
      ['Connection', 'keep-alive, X-Internal'],
      ['Keep-Alive', 'timeout=5'],
      ['X-Internal', 'secret'],
      ['Transfer-Encoding', 'chunked'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-Request-Id', 'theirs'],
    ].flatMap(([n, v]) => [Buffer.from(n!), Buffer.from(v!)]);
    assert.deepEqual(responseHeaders(raw, ['x-request-id', 'ours']), [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'x-request-id',
      'ours',
    ]);
  });
});

describe('forwarding', () => {
  it('writes Forwarded elements as RFC 7239 wants them', () => {
    assert.equal(
      forwardedElement('203.0.113.9', 'shop.example.com', 'http'),
      'for=203.0.113.9;host=shop.example.com;proto=http',
    );
    assert.equal(forwardedElement('::1', 'shop:8080', 'http'), 'for="[::1]";host="shop:8080";proto=http');
    assert.equal(forwardedElement('10.0.0.1', undefined, 'http'), 'for=10.0.0.1;proto=http');
  });

  it('writes IPv4 clients without the IPv4-mapped prefix', () => {
    assert.equal(clientAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(clientAddress('::1'), '::1');
    assert.equal(clientAddress(undefined), 'unknown');
  });
});
