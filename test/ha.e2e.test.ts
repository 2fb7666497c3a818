// High availability over a real PostgreSQL (a private cluster, never the shared one): three
// `baton server` replicas on one state folder share the process runtime's instances. The
// leader is killed -9 together with one of its instances, again and again (some rounds in
// the middle of a rollout): a new leader replaces the instance, the architecture converges,
// revisions stay intact, no instance id runs twice and no process is left without an
// instance. Then fencing: a leader SIGSTOPped past its lease, replaced, and SIGCONTed starts,
// stops and writes nothing. Rounds: BATON_HA_ROUNDS (default 3; the bench runs 20).
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { bearer, serverToken } from './support/api-token.ts';
import { spawn } from 'node:child_process';
import {
  BATON_BIN,
  REPO,
  runCli,
  startServer,
  tempDir,
  type ServerProcess,
} from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.ts';

const ROUNDS = Number(process.env['BATON_HA_ROUNDS'] ?? 3);

const manifest = (version: string) => `
name: ha
services:
  api:
    version: ${version}
    tier: high
    instances: 3
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    routes: [{ path: / }]
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 10s }
    rollout: { maxSurge: 1, maxUnavailable: 0, deadline: 3m }
`;

interface Instance {
  id: string;
  service: string;
  version: string;
  phase: string;
  pid?: number;
}
interface Cluster {
  leader?: { epoch: number; address: string | null };
  replicas: { address: string | null }[];
  self: { address: string; leading: boolean; epoch: number | null };
}
interface Status {
  revision: number | null;
  services: { service: string; settled: boolean; revision: number | null }[];
  instances: Instance[];
}

/** The replicas share one state folder, hence one admin token. */
let token = '';
const get = async <T>(url: string): Promise<T> => {
  const response = await fetch(url, { headers: bearer(token), signal: AbortSignal.timeout(2_000) });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return (await response.json()) as T;
};

describe('three replicas over PostgreSQL', { timeout: (5 + ROUNDS) * 60_000 }, () => {
  let postgres: PrivatePostgres;
  let dir: { path: string; remove: () => Promise<void> };
  let state: string;
  let db: pg.Pool;
  const replicas: ServerProcess[] = [];

  const startReplica = async () => {
    const replica = await startServer(state, ['--store', postgres.url, '--log-level', 'warn']);
    replicas.push(replica);
    return replica;
  };
  /** A replica SIGSTOPped on purpose: it answers nothing until SIGCONT. */
  let asleep: ServerProcess | undefined;
  const alive = () =>
    replicas.filter((r) => r !== asleep && r.child.exitCode === null && r.child.signalCode === null);
  const leader = () =>
    eventually(
      async () => {
        for (const replica of alive()) {
          const cluster = await get<Cluster>(`${replica.url}/v1/cluster`).catch(() => undefined);
          if (cluster?.self.leading) return { replica, epoch: cluster.self.epoch! };
        }
        return undefined;
      },
      { timeoutMs: 15_000, what: 'a replica leads' },
    );
  /** Every live replica reports the same running instances of api at `version`, `count` of them. */
  const agreed = (version: string, what: string, exclude?: string) =>
    eventually(
      async () => {
        const seen = await Promise.all(alive().map((r) => get<Status>(`${r.url}/v1/status`)));
        const running = seen.map((s) =>
          s.instances
            .filter((i) => i.service === 'api' && i.phase === 'running' && i.version === version)
            .map((i) => i.id)
            .sort()
            .join(','),
        );
        const settled = seen.every((s) => s.services.length > 0 && s.services.every((v) => v.settled));
        const ids = running[0]!.split(',').filter(Boolean);
        return settled &&
          ids.length === 3 &&
          running.every((r) => r === running[0]) &&
          (exclude === undefined || !ids.includes(exclude))
          ? seen[0]!
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, what },
    );
  /** Exactly one process per instance the registry knows, and no process of an instance it does not. */
  const noDuplicatesNoOrphans = (url: string) =>
    eventually(
      async () => {
        const known = (await get<Status>(`${url}/v1/status`)).instances
          .filter((i) => i.phase !== 'stopped')
          .map((i) => i.id)
          .sort();
        const owned = await findOwnedProcesses(state);
        const mains = owned.map((p) => p.instance).sort();
        return new Set(mains).size === mains.length && mains.join() === known.join() ? mains : undefined;
      },
      { timeoutMs: 20_000, what: 'one process per known instance, none unknown' },
    );

  before(async () => {
    postgres = await startPrivatePostgres({ ports: [32_100, 32_199] });
    dir = await tempDir('ha');
    state = join(dir.path, 'state');
    db = new pg.Pool({ connectionString: postgres.url, max: 2 });
    db.on('error', () => {});
    for (let i = 0; i < 3; i++) await startReplica();
    token = await serverToken(state);
  });
  after(async () => {
    for (const replica of replicas) {
      if (replica.child.exitCode === null) replica.child.kill('SIGCONT');
      await replica.stop('SIGKILL');
    }
    for (const { pid } of await findOwnedProcesses(state).catch(() => [])) process.kill(pid, 'SIGKILL');
    await db?.end();
    await postgres?.remove();
    await dir?.remove();
  });

  const apply = async (url: string, version: string) => {
    const response = await fetch(`${url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify({ manifest: manifest(version), baseDir: REPO }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { revision: { number: number } }).revision.number;
  };

  it('kill -9 of the leader (and an instance): a new leader replaces it; no duplicate, no orphan', async () => {
    const { replica: first } = await leader();
    // Writes go to any replica: a follower's apply is acted on by the leader.
    const follower = alive().find((r) => r !== first)!;
    let revision = await apply(follower.url, '1.0.0');
    let version = '1.0.0';
    await agreed(version, 'every replica agrees on three running instances');
    for (let round = 1; round <= ROUNDS; round++) {
      const { replica: old, epoch } = await leader();
      const midRollout = round % 2 === 0;
      if (midRollout) {
        version = `1.0.${round}`;
        revision = await apply(alive().find((r) => r !== old)!.url, version);
        await eventually(
          async () =>
            (await get<Status>(`${old.url}/v1/status`)).instances.some((i) => i.version === version),
          { timeoutMs: 20_000, what: 'the rollout has begun' },
        );
      }
      const victim = (await get<Status>(`${old.url}/v1/status`)).instances.find(
        (i) => i.service === 'api' && i.phase === 'running',
      )!;
      const killedAt = performance.now();
      old.child.kill('SIGKILL');
      process.kill(victim.pid!, 'SIGKILL');
      await old.exited;
      const next = await leader();
      assert.ok(next.epoch > epoch, `the epoch went up: ${epoch} → ${next.epoch}`);
      await agreed(version, `round ${round}: converged without ${victim.id}`, victim.id);
      console.error(
        `round ${round}${midRollout ? ' (mid-rollout)' : ''}: epoch ${epoch} → ${next.epoch}, ` +
          `${victim.id} replaced and every replica agrees ${Math.round(performance.now() - killedAt)} ms after the kill`,
      );
      await noDuplicatesNoOrphans(next.replica.url);
      await startReplica();
    }
    // The CLI moves on from a dead replica to the next one it was given, and shows the cluster.
    const dead = replicas.find((r) => r.child.signalCode === 'SIGKILL')!;
    const cli = await runCli(['status', '--server', `${dead.url},${alive()[0]!.url}`], {
      BATON_STATE_DIR: state,
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /leader: http:\/\/127\.0\.0\.1:\d+ \(epoch \d+/);
    assert.match(cli.stdout, /\d replicas\n.*ROLE/);
    // Revisions intact: every applied one is there, once, numbered in order.
    const { rows } = await db.query<{ number: number }>('SELECT number FROM revisions ORDER BY number');
    assert.deepEqual(
      rows.map((r) => r.number),
      Array.from({ length: revision }, (_, i) => i + 1),
    );
    // Leadership changes are events, each with a new epoch.
    const { rows: elected } = await db.query<{ epoch: string }>(
      "SELECT data_json->>'epoch' AS epoch FROM events WHERE kind = 'leadership.elected' ORDER BY seq",
    );
    const epochs = elected.map((r) => Number(r.epoch));
    assert.deepEqual(
      epochs,
      [...epochs].sort((a, b) => a - b),
      'epochs only go up',
    );
    assert.equal(new Set(epochs).size, epochs.length, 'no epoch elected twice');
  });

  // A replica taking the lead empties the registry it mirrored before it has adopted what
  // runs: its gateways must keep the last leader's picture meanwhile (TrafficControl.hold).
  it('under steady load through a gateway, kill -9 of the leader fails no idempotent request', async () => {
    const gateway = spawn(
      process.execPath,
      [
        BATON_BIN,
        '--server',
        alive()
          .map((r) => r.url)
          .join(','),
        'gateway',
        '--listen',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        '--log-level',
        'warn',
      ],
      {
        cwd: REPO,
        env: { ...process.env, BATON_STATE_DIR: state, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        gateway.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /listening on (http:\/\/[^\s,]+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        gateway.once('exit', () => reject(new Error(`the gateway exited: ${out}`)));
      });
      await eventually(async () => (await fetch(url)).status === 200, {
        timeoutMs: 20_000,
        what: 'the gateway routes',
      });
      let ok = 0;
      const failed: string[] = [];
      let loading = true;
      const worker = async () => {
        while (loading) {
          try {
            const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
            const body = await response.text();
            if (response.status === 200) ok++;
            else failed.push(`HTTP ${response.status} ${body.slice(0, 300)}`);
          } catch (error) {
            failed.push(String(error));
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      try {
        await eventually(() => ok >= 200, { timeoutMs: 20_000, what: 'steady load' });
        const { replica: old, epoch } = await leader();
        old.child.kill('SIGKILL');
        await old.exited;
        const next = await leader();
        assert.ok(next.epoch > epoch);
        const before = ok;
        // The new leader has adopted the instances and published its picture; the load goes on.
        await eventually(
          async () =>
            (await get<Status>(`${next.replica.url}/v1/status`)).instances.filter(
              (i) => i.phase === 'running',
            ).length === 3,
          { timeoutMs: 20_000, what: 'the new leader serves its adopted instances' },
        );
        await eventually(() => ok >= before + 200, { timeoutMs: 20_000, what: 'load after the failover' });
      } finally {
        loading = false;
        await Promise.all(workers);
      }
      console.error(`gateway load across the failover: ${ok} requests served, ${failed.length} failed`);
      assert.deepEqual(failed, [], 'no idempotent request failed');
      await startReplica();
    } finally {
      gateway.kill('SIGTERM');
    }
  });

  it('fencing: a leader paused past its lease starts, stops and writes nothing once it wakes', async () => {
    const { replica: paused, epoch } = await leader();
    const victim = (await get<Status>(`${paused.url}/v1/status`)).instances.find(
      (i) => i.service === 'api' && i.phase === 'running',
    )!;
    // Paused with work waiting: its instance dies while it sleeps, so it wakes wanting to act.
    asleep = paused;
    paused.child.kill('SIGSTOP');
    process.kill(victim.pid!, 'SIGKILL');
    const next = await leader();
    assert.ok(next.epoch > epoch);
    const version = victim.version;
    await agreed(version, 'the new leader replaced the instance', victim.id);
    const { rows: before } = await db.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM events',
    );
    const processesBefore = (await findOwnedProcesses(state)).map((p) => p.pid).sort();
    paused.child.kill('SIGCONT');
    asleep = undefined;
    // It finds out: it no longer leads, and follows the new leader.
    await eventually(
      async () => {
        const cluster = await get<Cluster>(`${paused.url}/v1/cluster`);
        return !cluster.self.leading && cluster.leader?.epoch === next.epoch;
      },
      { timeoutMs: 15_000, what: 'the woken leader knows it no longer leads' },
    );
    await agreed(version, 'still converged, seen alike from every replica, the woken one too', victim.id);
    const { rows: written } = await db.query(
      "SELECT seq, kind FROM events WHERE seq > $1 AND (data_json->>'epoch')::bigint = $2",
      [before[0]!.seq, epoch],
    );
    assert.deepEqual(written, [], 'nothing written with the stale epoch');
    assert.deepEqual(
      (await findOwnedProcesses(state)).map((p) => p.pid).sort(),
      processesBefore,
      'no process started or stopped',
    );
    assert.equal(paused.child.exitCode, null, 'the woken replica still serves');
  });
  it('PostgreSQL restarted mid-rollout, a replica cut off: none crashes, one leader at a time, converged', async () => {
    // The fourth replica reaches PostgreSQL through a proxy of this test's, which cuts it off.
    const cut = new Set<Socket>();
    let open = true;
    const proxy: Server = createServer((client) => {
      if (!open) return client.destroy();
      const upstream = createConnection(postgres.port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        cut.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => cut.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as { port: number };
      const isolated = await startServer(state, [
        '--store',
        `postgres://postgres@127.0.0.1:${port}/postgres`,
        '--log-level',
        'warn',
      ]);
      replicas.push(isolated);
      const { replica: old } = await leader();
      const version = '2.0.0';
      await apply(old.url, version);
      await eventually(
        async () => (await get<Status>(`${old.url}/v1/status`)).instances.some((i) => i.version === version),
        { timeoutMs: 20_000, what: 'the rollout has begun' },
      );
      open = false;
      for (const socket of cut) socket.destroy();
      asleep = isolated; // it answers, but from a picture that no longer moves: not asked below
      await postgres.stop();
      await postgres.start();
      await agreed(version, 'converged on the new version once the database is back');
      for (const replica of replicas.filter((r) => r.child.signalCode !== 'SIGKILL'))
        assert.equal(replica.child.exitCode, null, 'no replica crashed');
      // At most one leader acted at any time: in the log, a write of an older epoch never
      // follows one of a newer epoch.
      const { rows } = await db.query<{ epoch: string }>(
        "SELECT data_json->>'epoch' AS epoch FROM events WHERE data_json ? 'epoch' ORDER BY seq",
      );
      const epochs = rows.map((r) => Number(r.epoch));
      assert.ok(epochs.length > 0);
      epochs.forEach((epoch, i) =>
        assert.ok(i === 0 || epoch >= epochs[i - 1]!, `epoch ${epoch} after ${epochs[i - 1]}`),
      );
      // Reconnected, the cut-off replica follows again.
      open = true;
      asleep = undefined;
      await eventually(
        async () => {
          const cluster = await get<Cluster>(`${isolated.url}/v1/cluster`);
          return cluster.leader !== undefined && !cluster.self.leading;
        },
        { timeoutMs: 20_000, what: 'the cut-off replica follows the leader again' },
      );
      await agreed(version, 'the cut-off replica agrees again');
    } finally {
      proxy.close();
      for (const socket of cut) socket.destroy();
    }
  });
});
