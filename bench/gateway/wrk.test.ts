import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk, wrkArgs } from './wrk.ts';

const CLEAN = `Running 10s test @ http://127.0.0.1:18000/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.87ms   12.07ms 140.84ms   95.66%
    Req/Sec    10.94k     5.24k   18.76k    60.00%
  Latency Distribution
     50%  874.00us
     75%    3.49ms
     90%    8.41ms
     99%    1.20s
  218740 requests in 10.01s, 53.60MB read
Requests/sec:  21852.29
Transfer/sec:      5.29MB
`;

describe('parseWrk', () => {
  it('reads throughput, the request count and p50/p99 in any unit', () => {
    assert.deepEqual(parseWrk(CLEAN), {
      requests: 218740,
      requestsPerSecond: 21852.29,
      p50Ms: 0.874,
      p99Ms: 1200,
      errors: 0,
    });
  });

  it('adds socket errors and non-2xx responses together', () => {
    const text = CLEAN.replace(
      'Requests/sec:',
      '  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 10\nRequests/sec:',
    );
    assert.equal(parseWrk(text).errors, 20);
  });

  it('refuses output without a latency distribution', () => {
    assert.throws(() => parseWrk(CLEAN.replace(/^\s+99%.*$/m, '')), /99% latency/);
  });

  it('refuses what is not a wrk report', () => {
    assert.throws(
      () => parseWrk('unable to connect to 127.0.0.1:18001 Connection refused'),
      /not a wrk report/,
    );
  });
});

describe('wrkArgs', () => {
  it('asks for the latency distribution', () => {
    assert.deepEqual(wrkArgs({ url: 'http://127.0.0.1:1/', seconds: 10, connections: 50, threads: 2 }), [
      '-t2',
      '-c50',
      '-d10s',
      '--latency',
      'http://127.0.0.1:1/',
    ]);
  });
});
