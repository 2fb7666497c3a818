/// <reference types="node" />
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiPathOfSearch, PAGE_SIZE, queryOfSearch, searchFromQuery } from './trace-search.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');

describe('the traces search', () => {
  it('reads a search from the address, with defaults for what is missing or wrong', () => {
    assert.deepEqual(searchFromQuery(new URLSearchParams('')), {
      service: '',
      route: '',
      status: '',
      min: '',
      max: '',
      range: '1h',
      limit: PAGE_SIZE,
    });
    const odd = searchFromQuery(new URLSearchParams('status=maybe&range=1y&limit=-3'));
    assert.equal(odd.status, '');
    assert.equal(odd.range, '1h');
    assert.equal(odd.limit, PAGE_SIZE);
    assert.equal(searchFromQuery(new URLSearchParams('limit=5000')).limit, 1000);
  });

  it('turns it into the API query, the time range counted back from now', () => {
    const search = searchFromQuery(
      new URLSearchParams('service=orders&route=POST /api/checkout&status=error&min=250ms&max=2s&range=15m'),
    );
    const url = new URL(apiPathOfSearch(search, NOW), 'http://x');
    assert.equal(url.pathname, '/v1/traces');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      service: 'orders',
      route: 'POST /api/checkout',
      status: 'error',
      minDuration: '250ms',
      maxDuration: '2s',
      since: String(NOW - 15 * 60_000),
      limit: '50',
    });
    const any = new URL(apiPathOfSearch({ ...search, range: 'all', service: ' ', min: '' }, NOW), 'http://x');
    assert.equal(any.searchParams.has('since'), false);
    assert.equal(any.searchParams.has('service'), false);
    assert.equal(any.searchParams.has('minDuration'), false);
  });

  it('writes back only what differs from the defaults, and reads back the same search', () => {
    const search = searchFromQuery(new URLSearchParams('service=web&range=24h&limit=100'));
    const query = queryOfSearch(search);
    assert.deepEqual(query, {
      service: 'web',
      route: undefined,
      status: undefined,
      min: undefined,
      max: undefined,
      range: '24h',
      limit: '100',
    });
    const params = new URLSearchParams(
      Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
    );
    assert.deepEqual(searchFromQuery(params), search);
    assert.deepEqual(queryOfSearch(searchFromQuery(new URLSearchParams())), {
      service: undefined,
      route: undefined,
      status: undefined,
      min: undefined,
      max: undefined,
      range: undefined,
      limit: undefined,
    });
  });
});
