/// <reference types="node" />
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './client.ts';
import { followEventStream, followNdjson, LineSplitter, type StreamState } from './streams.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('streams over fetch', () => {
  let server: Server;
  let base: string;
  let handle: Handler = (_req, res) => res.end();

  before(async () => {
    server = createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reconnects after a drop and resumes with Last-Event-ID, sending the bearer token', async () => {
    const seen: { lastEventId: string | undefined; auth: string | undefined }[] = [];
    handle = (req, res) => {
      seen.push({
        lastEventId: req.headers['last-event-id'] as string | undefined,
        auth: req.headers.authorization,
      });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seen.length === 1) {
        // retry: keeps the test quick; the connection then drops mid-stream.
        res.end('retry: 10\n\nid: 1\nevent: event\ndata: one\n\nid: 2\nevent: event\ndata: two\n\nid: 3\nda');
      } else {
        res.write('id: 3\nevent: event\ndata: three\n\n');
      }
    };
    const client = new ApiClient({ onUnauthorized: () => undefined });
    client.setToken('s3cret');
    const abort = new AbortController();
    const data: string[] = [];
    const states: StreamState[] = [];
    await followEventStream(
      client,
      `${base}/v1/events`,
      {
        onMessage: (m) => {
          data.push(m.data);
          if (data.length === 3) abort.abort();
        },
        onState: (s) => states.push(s),
      },
      abort.signal,
    );
    assert.deepEqual(data, ['one', 'two', 'three'], 'the torn event is dropped, then read again whole');
    assert.deepEqual(
      seen.map((s) => s.lastEventId),
      [undefined, '2'],
    );
    assert.ok(seen.every((s) => s.auth === 'Bearer s3cret'));
    assert.deepEqual(states.slice(0, 4), ['connecting', 'open', 'retrying', 'retrying']);
  });

  it('stops on 401 and reports it, instead of retrying', async () => {
    let requests = 0;
    handle = (_req, res) => {
      requests++;
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({ status: 401, code: 'unauthorized', title: 'Unauthorized', detail: 'missing token' }),
      );
    };
    let unauthorized = 0;
    const client = new ApiClient({ onUnauthorized: () => unauthorized++ });
    const fatal: number[] = [];
    await followEventStream(
      client,
      `${base}/v1/events`,
      { onMessage: () => undefined, onFatal: (e) => fatal.push(e.status) },
      new AbortController().signal,
    );
    assert.deepEqual(fatal, [401]);
    assert.equal(unauthorized, 1);
    assert.equal(requests, 1);
  });

  it('follows NDJSON across chunk boundaries and reopens with the resume path', async () => {
    const paths: string[] = [];
    handle = (req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      if (paths.length === 1) {
        res.write('{"line":"a"}\n{"li');
        setTimeout(() => res.end('ne":"b"}\nnot json\n'), 5);
      } else res.write('{"line":"c"}\n');
    };
    const abort = new AbortController();
    const lines: string[] = [];
    await followNdjson<{ line: string }>(
      new ApiClient({ onUnauthorized: () => undefined }),
      `${base}/logs?tail=50`,
      `${base}/logs?tail=0`,
      {
        onItem: (item) => {
          lines.push(item.line);
          if (lines.length === 3) abort.abort();
        },
      },
      abort.signal,
    );
    assert.deepEqual(lines, ['a', 'b', 'c']);
    assert.deepEqual(paths, ['/logs?tail=50', '/logs?tail=0']);
  });

  it('splits lines whatever the chunks', () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.feed('a\nb'), ['a']);
    assert.deepEqual(splitter.feed(''), []);
    assert.deepEqual(splitter.feed('c\n\nd\n'), ['bc', 'd']);
  });
});
