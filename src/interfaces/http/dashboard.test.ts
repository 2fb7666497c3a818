import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { pino } from 'pino';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import { RevisionEngine } from '../../engines/revisions/revision-engine.ts';
import { systemClock } from '../../ports/clock.ts';
import { createHttpApp } from './app.ts';
import { CONTENT_SECURITY_POLICY, safeJoin, serveDashboard } from './dashboard.ts';

const INDEX =
  '<!doctype html><title>console</title><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('the dashboard server', () => {
  let dir: string;
  let app: Hono;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-dashboard-'));
    await mkdir(join(dir, 'web/assets'), { recursive: true });
    await writeFile(join(dir, 'web/index.html'), INDEX);
    await writeFile(join(dir, 'web/assets/index-abc123.js'), SCRIPT);
    await writeFile(join(dir, 'web/favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, 'secret.txt'), 'outside the root');
    app = new Hono();
    app.notFound((c) => c.json({ code: 'not-found' }, 404));
    app.get('/v1/before', (c) => c.text('api'));
    serveDashboard(app, { root: join(dir, 'web') });
    // Registered after the dashboard, as later routes of app.ts would be.
    app.get('/v1/after', (c) => c.text('api too'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves index.html at / with no-cache and the security headers', async () => {
    const res = await app.request('/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/, 'no inline or eval scripts');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), INDEX);
  });

  it('answers the routes of the app with index.html, but a missing file with a plain 404', async () => {
    for (const path of ['/services/orders', '/map', '/events/']) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(await res.text(), INDEX, path);
    }
    const missing = await app.request('/assets/index-gone99.js');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^text\/plain/);
  });

  it('caches hashed assets for good, with a working ETag', async () => {
    const res = await app.request('/assets/index-abc123.js');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await res.text(), SCRIPT);
    const etag = res.headers.get('etag')!;
    const again = await app.request('/assets/index-abc123.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const icon = await app.request('/favicon.svg');
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal(icon.headers.get('cache-control'), 'no-cache', 'an unhashed name must be revalidated');
  });

  it('sends gzip to clients that accept it', async () => {
    const res = await app.request('/assets/index-abc123.js', { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(res.headers.get('vary'), 'accept-encoding');
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.length < SCRIPT.length / 4);
    assert.equal(gunzipSync(body).toString(), SCRIPT);
  });

  it('never serves a file outside its folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%5c..%5csecret.txt',
    ]) {
      const res = await app.request(path);
      assert.notEqual(await res.text(), 'outside the root', path);
    }
    assert.equal(safeJoin('/srv/web', '/a/../../etc/passwd'), undefined);
    assert.equal(safeJoin('/srv/web', '/a/b.js'), '/srv/web/a/b.js');
  });

  it('leaves /v1 to the API, including routes registered after it and the API 404', async () => {
    assert.equal(await (await app.request('/v1/before')).text(), 'api');
    assert.equal(await (await app.request('/v1/after')).text(), 'api too');
    const unknown = await app.request('/v1/nothing');
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { code: 'not-found' });
  });

  it('says to run the build when dist/web is missing', async () => {
    const bare = new Hono();
    serveDashboard(bare, { root: join(dir, 'nowhere') });
    const res = await bare.request('/');
    assert.equal(res.status, 503);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /npm run build/);
  });
});

describe('the dashboard in the control plane API', () => {
  it('needs no token for the page while /v1 still does', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const engine = new RevisionEngine({ store, clock: systemClock });
      const app = createHttpApp({
        engine,
        store,
        logger: pino({ level: 'silent' }),
        version: 'test',
        auth: { authenticate: () => Promise.resolve(undefined) },
      });
      const page = await app.request('/');
      assert.ok(page.status === 200 || page.status === 503, `the page or the build hint, got ${page.status}`);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const api = await app.request('/v1/services');
      assert.equal(api.status, 401);
      assert.match(api.headers.get('content-type') ?? '', /application\/problem\+json/);
    } finally {
      await store.close();
    }
  });
});
