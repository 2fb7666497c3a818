// The SDK across control-plane replicas, with real `baton server` processes over one
// PostgreSQL database (a database of the test's own) and a real instance: the instance is
// given every replica's URL; an SDK discovery watch and config stream following replica F are
// carried to replica L when F is killed -9, the watch resuming from the last sequence it
// accepted, and both see what changes afterwards (a new instance, a new config value). Then the
// same through the leader: its kill -9 also moves the leadership, and the watch must not see
// the service without endpoints meanwhile (a new leader empties the registry it mirrored and
// adopts what runs: discovery holds the last leader's answers until the adopted are checked).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { connectConfig, watchDiscovery, type Endpoint } from '../packages/sdk/src/index.ts';
import { bearer } from './support/api-token.ts';
import { REPO, startServer, type ServerProcess } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const manifest = (instances: number) => `
name: sdk-failover
services:
  api:
    version: 1.0.0
    tier: high
    instances: ${instances}
    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/tiny-service.ts')}] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 10s }
`;

describe('the SDK moves to another replica', { timeout: 600_000 }, () => {
  const database = `baton_sdkfo_${randomBytes(5).toString('hex')}`;
  const databaseUrl = (() => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  let dir: string;
  let admin: pg.Client;
  const replicas: ServerProcess[] = [];
  const closers: (() => void)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-sdk-failover-'));
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  after(async () => {
    for (const close of closers) close();
    // The replicas leave their instances serving by design: stop them, then every process
    // marked as this state folder's.
    for (const replica of replicas) await replica.stop('SIGKILL');
    for (const { pid } of await findOwnedProcesses(join(dir, 'state')).catch(() => [])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  let leaderUrl = '';
  let apiToken = '';

  it('keeps watching discovery and config after kill -9 of its replica, from its last sequence', async () => {
    const state = join(dir, 'state');
    for (let i = 0; i < 2; i++)
      replicas.push(await startServer(state, ['--store', databaseUrl, '--log-level', 'warn']));
    const token = replicas[0]!.token;
    const get = async <T>(base: string, path: string): Promise<T> => {
      const response = await fetch(`${base}${path}`, { headers: bearer(token) });
      assert.equal(response.status, 200, `${path}: ${response.status}`);
      return (await response.json()) as T;
    };
    const leader = await eventually(
      async () => {
        for (const replica of replicas) {
          const cluster = await get<{ self: { leading: boolean } }>(replica.url, '/v1/cluster');
          if (cluster.self.leading) return replica;
        }
        return undefined;
      },
      { timeoutMs: 15_000, what: 'a replica leads' },
    );
    const follower = replicas.find((r) => r !== leader)!;
    const apply = async (instances: number) => {
      const response = await fetch(`${leader.url}/v1/apply`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/yaml' },
        body: manifest(instances),
      });
      assert.equal(response.status, 201, await response.text());
    };
    const discovered = (base: string) =>
      get<{ endpoints: Endpoint[] }>(base, '/v1/discovery/api').then((d) => d.endpoints);

    await apply(1);
    const [endpoint] = await eventually(
      async () => {
        const [a, b] = await Promise.all([discovered(leader.url), discovered(follower.url)]);
        return a.length === 1 && JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'both replicas discover the instance' },
    );
    // What Baton gave the instance: every replica's URL (the leader started it: its own first).
    const { env } = (await (
      await fetch(`http://${endpoint!.address}:${endpoint!.port}/token-hunt`)
    ).json()) as {
      env: Record<string, string>;
    };
    assert.equal(env['BATON_SERVER'], `${leader.url},${follower.url}`);
    leaderUrl = leader.url;
    apiToken = env['BATON_TOKEN']!;

    // The SDK as that instance would run it, but through the follower first.
    const server = `${follower.url},${leader.url}`;
    const connections: { server: string; resumeFrom: number }[] = [];
    const seen: number[] = [];
    const watch = watchDiscovery('api', {
      server,
      token: env['BATON_TOKEN'],
      onConnect: (at, resumeFrom) => connections.push({ server: at, resumeFrom }),
    });
    closers.push(() => watch.close());
    watch.watch((_, seq) => seen.push(seq));
    const config = connectConfig({
      server,
      token: env['BATON_TOKEN'],
      service: 'api',
      version: '1.0.0',
      cacheFile: join(dir, 'config-cache.json'),
    });
    closers.push(() => config.close());
    await watch.ready;
    assert.equal(await config.ready, 'live');
    assert.deepEqual(watch.endpoints(), [endpoint]);
    assert.equal(watch.server, follower.url);
    const lastSeq = watch.seq;
    assert.ok(lastSeq > 0, `a sequence of the shared registry: ${lastSeq}`);

    const killedAt = performance.now();
    await follower.stop('SIGKILL');
    await eventually(() => watch.server === leader.url && connections.length === 2, {
      timeoutMs: 15_000,
      what: 'the watch moves to the leader',
    });
    console.error(`discovery watch reconnected ${Math.round(performance.now() - killedAt)} ms after kill -9`);
    assert.deepEqual(connections, [
      { server: follower.url, resumeFrom: 0 },
      { server: leader.url, resumeFrom: lastSeq },
    ]);

    // Changes after the move reach the client.
    await apply(2);
    const both = await eventually(
      async () => {
        const truth = await discovered(leader.url);
        return truth.length === 2 && JSON.stringify(watch.endpoints()) === JSON.stringify(truth)
          ? truth
          : undefined;
      },
      { timeoutMs: 30_000, what: 'the watch sees the second instance' },
    );
    assert.ok(
      both.some((e) => e.instance === endpoint!.instance),
      'the first instance is still there',
    );
    assert.ok(watch.seq > lastSeq, `newer than before the move: ${watch.seq} > ${lastSeq}`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      `sequences never went back: ${seen.join(', ')}`,
    );

    const set = await fetch(`${leader.url}/v1/config/set`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ changes: [{ scope: 'api', key: 'greeting', value: 'after the kill' }] }),
    });
    assert.equal(set.status, 201, await set.text());
    await eventually(() => config.get('greeting') === 'after the kill', {
      timeoutMs: 15_000,
      what: 'the config stream, moved to the leader, gets the new value',
    });
  });

  it("keeps watching through the leader's kill -9, never without endpoints meanwhile", async () => {
    const token = replicas[0]!.token;
    const leader = replicas.find((r) => r.url === leaderUrl)!;
    const successor = await startServer(join(dir, 'state'), ['--store', databaseUrl, '--log-level', 'warn']);
    replicas.push(successor);
    const lists: number[] = [];
    const connections: { server: string; resumeFrom: number }[] = [];
    const watch = watchDiscovery('api', {
      server: `${leader.url},${successor.url}`,
      token: apiToken,
      onConnect: (at, resumeFrom) => connections.push({ server: at, resumeFrom }),
    });
    closers.push(() => watch.close());
    watch.watch((endpoints) => lists.push(endpoints.length));
    await watch.ready;
    assert.equal(watch.endpoints().length, 2);
    const lastSeq = watch.seq;
    await leader.stop('SIGKILL');
    // The successor leads, has adopted and checked the instances (its own picture, built
    // after the empty one it starts a term with), and the watch shows that picture.
    await eventually(
      async () => {
        const ask = async <T>(path: string) =>
          (await (await fetch(`${successor.url}${path}`, { headers: bearer(token) })).json()) as T;
        const cluster = await ask<{ self: { leading: boolean; epoch: number | null } }>('/v1/cluster');
        if (!cluster.self.leading) return false;
        // Its own term's picture: both instances checked running under its epoch.
        const { events } = await ask<{ events: { data?: { instance?: string; epoch?: number } }[] }>(
          '/v1/events?kind=instance.running',
        );
        const adopted = new Set(
          events.filter((e) => e.data?.epoch === cluster.self.epoch).map((e) => e.data?.instance),
        );
        const { endpoints } = await ask<{ endpoints: Endpoint[] }>('/v1/discovery/api');
        return (
          adopted.size === 2 &&
          endpoints.length === 2 &&
          JSON.stringify(watch.endpoints()) === JSON.stringify(endpoints) &&
          watch.seq >= lastSeq
        );
      },
      {
        timeoutMs: 30_000,
        what: 'the successor leads, has adopted the instances, and the watch follows it',
      },
    );
    assert.deepEqual(connections, [
      { server: leader.url, resumeFrom: 0 },
      { server: successor.url, resumeFrom: lastSeq },
    ]);
    assert.ok(!lists.includes(0), `never without endpoints: ${lists.join(', ')}`);
  });
});
