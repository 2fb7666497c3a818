// The API as an attacker meets it (issue 11): a web page in the operator's browser, an
// instance, a token of the wrong role. In process, on a real SQLite store; each case is a
// finding that once got through.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openSqliteStore } from '../src/adapters/store/sqlite/sqlite-store.ts';
import { RevisionEngine } from '../src/engines/revisions/revision-engine.ts';
import { createHttpApp } from '../src/interfaces/http/app.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { Store } from '../src/ports/store.ts';
import { TEST_ADMIN_TOKEN, testIdentities } from './support/api-token.ts';
import { REPO } from './support/baton-process.ts';

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };

interface Problem {
  code: string;
  status: number;
}

describe('what a web page can make a browser send', () => {
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;
  let example: string;

  before(async () => {
    store = await openSqliteStore({ path: ':memory:' });
    const engine = new RevisionEngine({ store, clock: systemClock });
    app = createHttpApp({
      engine,
      store,
      logger: pino({ level: 'silent' }),
      version: 'test',
      auth: testIdentities(store),
      allowedHosts: ['baton.internal'],
    });
    example = await readFile(join(REPO, 'examples/shop/baton.yaml'), 'utf8');
  });
  after(() => store.close());

  const apply = (url: string, headers: Record<string, string>) =>
    app.request(url, { method: 'POST', headers, body: JSON.stringify({ manifest: example }) });

  it('refuses a rebinding host name, even with the token, and changes nothing', async () => {
    const rebound = await apply('http://rebind.evil.example:7070/v1/apply', { ...ADMIN, ...JSON_TYPE });
    assert.equal(rebound.status, 403);
    assert.match(rebound.headers.get('content-type') ?? '', /problem\+json/);
    assert.equal(((await rebound.json()) as Problem).code, 'host-not-allowed');
    assert.equal(await store.latestRevision(), undefined, 'nothing was applied');
    // The server's own names pass: IP addresses, localhost, and what --allowed-host named.
    for (const host of [
      '127.0.0.1:7070',
      'localhost:7070',
      '[::1]:7070',
      '10.1.2.3',
      'baton.internal:7070',
    ]) {
      const response = await app.request(`http://${host}/v1/revisions`, { headers: ADMIN });
      assert.equal(response.status, 200, host);
    }
  });

  it('refuses a cross-site write, whatever it carries', async () => {
    for (const headers of [
      { origin: 'https://evil.example', ...JSON_TYPE, ...ADMIN },
      { 'sec-fetch-site': 'cross-site', ...JSON_TYPE, ...ADMIN },
      { 'sec-fetch-site': 'same-site', ...JSON_TYPE, ...ADMIN }, // another port of localhost
      { origin: 'null', ...JSON_TYPE, ...ADMIN },
    ]) {
      const response = await apply('http://127.0.0.1:7070/v1/apply', headers);
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.equal(((await response.json()) as Problem).code, 'cross-site-refused');
    }
    // The dashboard's own writes are same-origin.
    const own = await apply('http://127.0.0.1:7070/v1/plan', {
      origin: 'http://127.0.0.1:7070',
      'sec-fetch-site': 'same-origin',
      ...JSON_TYPE,
      ...ADMIN,
    });
    assert.equal(own.status, 200);
    assert.equal(await store.latestRevision(), undefined, 'nothing was applied');
  });

  it('changes nothing on a "simple" request: no content type, a form, plain text', async () => {
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      const response = await app.request('http://127.0.0.1:7070/v1/services/web/restart', {
        method: 'POST',
        headers: { ...ADMIN, ...(type ? { 'content-type': type } : {}) },
        body: '{}',
      });
      assert.equal(response.status, 415, String(type));
      assert.equal(((await response.json()) as Problem).code, 'unsupported-media-type');
    }
  });

  it('asks for the token on loopback too', async () => {
    const anonymous = await apply('http://127.0.0.1:7070/v1/apply', JSON_TYPE);
    assert.equal(anonymous.status, 401);
    assert.equal(await store.latestRevision(), undefined);
  });
});

describe('roles', () => {
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;
  let tokens: Record<'viewer' | 'operator' | 'admin', string>;
  let example: string;

  before(async () => {
    store = await openSqliteStore({ path: ':memory:' });
    const engine = new RevisionEngine({ store, clock: systemClock });
    const identities = testIdentities(store);
    app = createHttpApp({
      engine,
      store,
      logger: pino({ level: 'silent' }),
      version: 'test',
      auth: identities,
      identities,
    });
    tokens = {
      viewer: (await identities.create('vera', 'viewer', 'admin')).token,
      operator: (await identities.create('otto', 'operator', 'admin')).token,
      admin: (await identities.create('ada', 'admin', 'admin')).token,
    };
    example = await readFile(join(REPO, 'examples/shop/baton.yaml'), 'utf8');
  });
  after(() => store.close());

  const call = (token: string, method: string, path: string, body?: unknown) =>
    app.request(`http://127.0.0.1:7070${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : JSON_TYPE) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('lets a viewer read everything it should and change nothing', async () => {
    assert.equal((await call(tokens.admin, 'POST', '/v1/apply', { manifest: example })).status, 201);
    for (const path of [
      '/v1/revisions',
      '/v1/revisions/1',
      '/v1/services',
      '/v1/graph',
      '/v1/events',
      '/v1/audit',
      '/v1/whoami',
    ])
      assert.equal((await call(tokens.viewer, 'GET', path)).status, 200, path);
    assert.equal(
      (await call(tokens.viewer, 'POST', '/v1/plan', { manifest: example })).status,
      200,
      'a plan is a read',
    );
    for (const [method, path, body] of [
      ['POST', '/v1/apply', { manifest: example.replace('2.1.0', '2.1.1') }],
      ['POST', '/v1/rollback', { to: 1 }],
      ['POST', '/v1/tokens', { name: 'mine', role: 'admin' }],
      ['DELETE', '/v1/tokens/otto', undefined],
      ['GET', '/v1/tokens', undefined],
    ] as const) {
      const response = await call(tokens.viewer, method, path, body);
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
      assert.equal(((await response.json()) as Problem).code, 'forbidden');
    }
    assert.equal((await store.latestRevision())?.number, 1, 'nothing changed');
  });

  it('lets an operator not apply, roll back or manage tokens', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/apply', { manifest: example.replace('2.1.0', '2.1.1') }],
      ['POST', '/v1/rollback', { to: 1 }],
      ['POST', '/v1/tokens', { name: 'mine', role: 'admin' }],
    ] as const)
      assert.equal((await call(tokens.operator, method, path, body)).status, 403, `${method} ${path}`);
    const me = (await (await call(tokens.operator, 'GET', '/v1/whoami')).json()) as {
      name: string;
      role: string;
    };
    assert.deepEqual(me, { name: 'otto', kind: 'user', role: 'operator' });
  });

  it('records every mutation, and every refused one, under the identity and the address', async () => {
    const { events } = (await (await call(tokens.viewer, 'GET', '/v1/audit?limit=1000')).json()) as {
      events: { actor: string; data: { action: string; status: number; source: string } }[];
    };
    const seen = events.map((e) => `${e.actor} ${e.data.action} ${e.data.status}`);
    assert.ok(seen.includes('ada apply 201'), seen.join('\n'));
    assert.ok(seen.includes('vera apply 403'));
    assert.ok(seen.includes('otto rollback 403'));
    assert.ok(events.every((e) => e.data.source === 'in-process'));
    const onlyOtto = (await (
      await call(tokens.viewer, 'GET', '/v1/audit?actor=otto&action=apply')
    ).json()) as {
      events: { actor: string }[];
    };
    assert.deepEqual(
      onlyOtto.events.map((e) => e.actor),
      ['otto'],
    );
  });

  it('finds an audit event however many came after it', async () => {
    const event = (actor: string) => ({
      kind: 'audit',
      actor,
      message: 'apply: POST /v1/apply → 201',
      data: { action: 'apply', status: 201 },
      time: new Date().toISOString(),
    });
    await store.appendEvents([event('archie')]);
    for (let i = 0; i < 11; i++) await store.appendEvents(Array.from({ length: 1_000 }, () => event('bulk')));
    const { events } = (await (await call(tokens.viewer, 'GET', '/v1/audit?actor=archie')).json()) as {
      events: { actor: string }[];
    };
    assert.deepEqual(
      events.map((e) => e.actor),
      ['archie'],
      'older than the newest 11,000',
    );
  });

  it('revokes a token for good, and no token may take a reserved name', async () => {
    const admin = (method: string, path: string, body?: unknown) => call(tokens.admin, method, path, body);
    assert.equal((await admin('DELETE', '/v1/tokens/vera')).status, 204);
    assert.equal((await call(tokens.viewer, 'GET', '/v1/revisions')).status, 401);
    for (const name of ['controller', 'rollout', 'admin', 'vera'])
      assert.notEqual((await admin('POST', '/v1/tokens', { name, role: 'viewer' })).status, 201, name);
    const listed = (await (await admin('GET', '/v1/tokens')).json()) as { tokens: object[] };
    assert.ok(!JSON.stringify(listed).includes(tokens.operator), 'no token in a listing');
  });
});
