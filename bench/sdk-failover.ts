// The SDK's discovery watch across a replica's kill -9 (issue 15, clients fail over): real
// `baton server` replicas over one PostgreSQL database (a fresh database on the server of
// BATON_TEST_POSTGRES_URL, dropped afterwards), the process runtime, a service of real
// instances. Each round starts a follower F, opens an SDK watch through F (then the leader),
// kills F with SIGKILL and at once changes the service (1 ↔ 2 instances, applied on the
// leader). Measured from the kill:
//   - reconnect: until the watch is connected to the leader;
//   - change seen: until the watch shows the new endpoints.
// Peer in the same round: a second watch connected to the leader all along sees the same
// change: the difference is what the failover costs.
//
//   node bench/sdk-failover.ts [rounds=10]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { watchDiscovery, type DiscoveryWatch } from '../packages/sdk/src/index.ts';
import { REPO, startServer, type ServerProcess } from '../test/support/baton-process.ts';
import { eventually } from '../test/support/eventually.ts';
import { max, median, ms } from './stats.ts';

const ROUNDS = Number(process.argv[2] ?? 10);
const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `baton_bench_sdkfo_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(url), { pathname: `/${database}` }).toString();

const manifest = (instances: number) => `
name: sdk-failover-bench
services:
  api:
    version: 1.0.0
    tier: high
    instances: ${instances}
    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/tiny-service.ts')}] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 10s }
`;

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const dir = await mkdtemp(join(tmpdir(), 'baton-bench-sdkfo-'));
const state = join(dir, 'state');
const servers: ServerProcess[] = [];
const start = async () => {
  const server = await startServer(state, ['--store', databaseUrl]);
  servers.push(server);
  return server;
};

try {
  const leader = await start();
  const headers = { authorization: `Bearer ${leader.token}` };
  const endpointsAt = async (base: string) =>
    ((await (await fetch(`${base}/v1/discovery/api`, { headers })).json()) as { endpoints: unknown[] })
      .endpoints.length;
  const apply = async (instances: number) => {
    const response = await fetch(`${leader.url}/v1/apply`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/yaml' },
      body: manifest(instances),
    });
    if (response.status !== 201) throw new Error(`apply: ${response.status} ${await response.text()}`);
  };
  await apply(1);
  await eventually(async () => (await endpointsAt(leader.url)) === 1, {
    timeoutMs: 30_000,
    what: 'the first instance',
  });
  let instances = 1;
  const reconnect: number[] = [];
  const viaFailover: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const follower = await start();
    await eventually(async () => (await endpointsAt(follower.url)) === instances, {
      timeoutMs: 30_000,
      what: 'the follower mirrors the registry',
    });
    const watches: DiscoveryWatch[] = [];
    let movedAt = 0;
    const moving = watchDiscovery('api', {
      server: `${follower.url},${leader.url}`,
      token: leader.token,
      onConnect: (at) => {
        if (at === leader.url) movedAt = performance.now();
      },
    });
    const peer = watchDiscovery('api', { server: leader.url, token: leader.token });
    watches.push(moving, peer);
    await Promise.all([moving.ready, peer.ready]);
    const next = instances === 1 ? 2 : 1;
    const seen = (watch: DiscoveryWatch) =>
      eventually(() => (watch.endpoints().length === next ? performance.now() : undefined), {
        timeoutMs: 60_000,
        intervalMs: 5,
        what: `the watch sees ${next} endpoints`,
      });
    const killedAt = performance.now();
    await follower.stop('SIGKILL');
    await apply(next);
    const [movedSeen, peerSeen] = await Promise.all([seen(moving), seen(peer)]);
    instances = next;
    reconnect.push(movedAt - killedAt);
    viaFailover.push(movedSeen - killedAt);
    direct.push(peerSeen - killedAt);
    for (const watch of watches) watch.close();
    console.error(
      `round ${round + 1}: reconnect ${ms(movedAt - killedAt)}, change seen ${ms(movedSeen - killedAt)} (direct ${ms(peerSeen - killedAt)})`,
    );
  }
  const row = (name: string, samples: number[]) =>
    `| ${name} | ${ms(median(samples))} | ${ms(Math.min(...samples))} | ${ms(max(samples))} |`;
  console.log(`rounds: ${ROUNDS}, load average at the end: ${loadavg()[0]!.toFixed(1)}`);
  console.log('| from kill -9 of the watched replica | median | min | max |\n|---|---|---|---|');
  console.log(row('watch reconnected to the leader', reconnect));
  console.log(row('change seen, watch that failed over', viaFailover));
  console.log(row('change seen, peer watch on the leader all along', direct));
} finally {
  // The replicas leave their instances serving by design: stop them, then every process
  // marked as this state folder's.
  for (const server of servers) await server.stop('SIGKILL');
  for (const { pid } of await findOwnedProcesses(state).catch(() => [])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
