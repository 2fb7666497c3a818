// Tokens across replicas: two control planes with DIFFERENT state folders (as on two machines)
// over one PostgreSQL database, started at the same moment on a new database. They agree on
// the keys: a service token and the gateway token issued by one are accepted by the other, a
// named token created through one works on the other, the bootstrap admin token works on both
// although only one state folder holds it, and a replica whose folder holds another token is
// refused at start.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { bearer } from './support/api-token.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('tokens on every replica', { timeout: 600_000 }, () => {
  const database = `baton_haid_${randomBytes(5).toString('hex')}`;
  const databaseUrl = (() => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  const secretsKey = randomBytes(32).toString('base64');
  let dir: string;
  let admin: pg.Client;
  const planes: ControlPlane[] = [];
  const start = (stateDir: string) =>
    startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      store: databaseUrl,
      runtime: 'simulated',
      eastWest: false,
      secretsKey: { value: secretsKey },
      logger: pino({ level: 'silent' }),
    });
  const holds = (stateDir: string) =>
    access(join(stateDir, 'token')).then(
      () => true,
      () => false,
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-ha-identity-'));
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  after(async () => {
    for (const plane of planes) await plane.close().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts on one replica the service, gateway, named and admin tokens of the other', async () => {
    const folders = [join(dir, 'a'), join(dir, 'b')];
    // At the same moment, on an empty database: both race to make the keys.
    planes.push(...(await Promise.all(folders.map(start))));
    const holding = await Promise.all(folders.map(holds));
    assert.deepEqual(
      holding.filter(Boolean).length,
      1,
      `exactly one state folder holds the admin token: ${holding.join(', ')}`,
    );
    const [a, b] = holding[0] ? [planes[0]!, planes[1]!] : [planes[1]!, planes[0]!];
    assert.equal(b.token, undefined, 'the other replica holds no copy');
    const adminToken = (await readFile(join(folders[holding[0] ? 0 : 1]!, 'token'), 'utf8')).trim();
    assert.equal(a.token, adminToken);

    const call = (plane: ControlPlane, path: string, token: string, init: RequestInit = {}) =>
      fetch(`${plane.url}${path}`, {
        ...init,
        headers: { ...bearer(token), 'content-type': 'application/json', ...init.headers },
      });

    // Issued by A, presented to B.
    const serviceToken = a.identities.serviceToken('orders');
    assert.equal(serviceToken, b.identities.serviceToken('orders'), 'both derive the same');
    assert.equal((await call(b, '/v1/discovery/orders', serviceToken)).status, 200, 'service token on B');
    assert.equal((await call(b, '/v1/status', serviceToken)).status, 403, 'and only within its scope');
    assert.equal(a.gatewayToken, b.gatewayToken);
    assert.equal((await call(b, '/v1/gateway/snapshot', a.gatewayToken)).status, 200, 'gateway token on B');
    assert.equal((await call(b, '/v1/status', adminToken)).status, 200, 'the admin token on B');

    const created = await call(a, '/v1/tokens', adminToken, {
      method: 'POST',
      body: JSON.stringify({ name: 'ci-deploy', role: 'viewer' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { token: named } = (await created.json()) as { token: string };
    assert.equal((await call(b, '/v1/status', named)).status, 200, 'the named token on B');
    assert.equal((await call(b, '/v1/tokens', named, { method: 'POST', body: '{}' })).status, 403);

    // Forged and foreign tokens stay out.
    assert.equal((await call(b, '/v1/discovery/orders', `${serviceToken}x`)).status, 401);
    assert.equal((await call(b, '/v1/status', 'not-a-token')).status, 401);
  });

  it('refuses a replica whose state folder holds another admin token, and lets one with a copy in', async () => {
    const stray = join(dir, 'stray');
    await mkdir(stray, { recursive: true, mode: 0o700 });
    await writeFile(join(stray, 'token'), 'a-token-of-another-control-plane\n', { mode: 0o600 });
    await assert.rejects(start(stray), {
      code: 'bad-request',
      message: /not the bootstrap admin token/,
      hint: /copy the `token` file/,
    });

    const holder = planes.find((p) => p.token !== undefined)!;
    const copy = join(dir, 'copy');
    await mkdir(copy, { recursive: true, mode: 0o700 });
    await writeFile(join(copy, 'token'), `${holder.token}\n`, { mode: 0o600 });
    const third = await start(copy);
    planes.push(third);
    assert.equal(third.token, holder.token);
    assert.equal((await fetch(`${third.url}/v1/status`, { headers: bearer(holder.token) })).status, 200);
  });
});
