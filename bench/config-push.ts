// Config push: how long from a release (the API call that makes it) until every one of N
// subscribed instances (the SDK's connectConfig, one SSE stream each) holds the new values.
// `baton server` runs as its own process (simulated runtime: no instances needed to
// subscribe); the subscribers share this process. Apollo, the peer, documents that its
// clients get a release "within 1 second" (server scan of release messages each second,
// then the long poll answers); Apollo itself (Java, MySQL) cannot run here, so its figure is
// the documented one, not measured.
//   node bench/config-push.ts [subscribers=200] [releases=20]
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { connectConfig, type Config } from '../packages/sdk/src/config.ts';
import { bearer, serverToken } from '../test/support/api-token.ts';
import { startServer, tempDir } from '../test/support/baton-process.ts';

const subscribers = Number(process.argv[2] ?? 200);
const releases = Number(process.argv[3] ?? 20);
const APOLLO_DOCUMENTED_MS = 1000;

const dir = await tempDir('config-push');
const server = await startServer(join(dir.path, 'state'), ['--runtime', 'simulated']);
const clients: Config[] = [];
// The admin token: it may read every service's config (an instance's own token reads its own).
const token = await serverToken(join(dir.path, 'state'));
try {
  const post = async (body: unknown) => {
    const response = await fetch(`${server.url}/v1/config/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify(body),
    });
    if (response.status !== 201)
      throw new Error(`release refused: ${response.status} ${await response.text()}`);
    return (await response.json()) as { release: { number: number } };
  };
  await post({ changes: [{ scope: 'global', key: 'ROUND', value: 0 }] });
  let round = 0;
  let started = 0;
  let expected = 0;
  const latencies: number[] = [];
  let arrived = 0;
  let allArrived: (() => void) | undefined;
  for (let i = 0; i < subscribers; i++) {
    const client = connectConfig({
      server: server.url,
      token,
      service: `svc-${i % 20}`,
      version: '1.0.0',
      instance: `svc-${i % 20}-${i}`,
      cacheFile: join(dir.path, 'cache', `${i}.json`),
    });
    client.watch((_values, release) => {
      if (release !== expected) return;
      latencies.push(performance.now() - started);
      if (++arrived === subscribers) allArrived?.();
    });
    clients.push(client);
  }
  await Promise.all(clients.map((c) => c.ready));
  // Every stream open and on release 1 before the first timed release.
  while (clients.some((c) => c.release !== 1)) await new Promise((r) => setTimeout(r, 20));
  const apiTimes: number[] = [];
  for (round = 1; round <= releases; round++) {
    arrived = 0;
    expected = round + 1;
    const done = new Promise<void>((resolve) => (allArrived = resolve));
    started = performance.now();
    await post({ changes: [{ scope: 'global', key: 'ROUND', value: round }] });
    apiTimes.push(performance.now() - started);
    await done;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const p99 = at(0.99);
  console.log(
    `config push: ${subscribers} subscribers × ${releases} releases = ${latencies.length} deliveries`,
  );
  console.log(
    `machine: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)} at the end, Node ${process.version}`,
  );
  console.log('| release → subscriber holds it | p50 | p90 | p99 | max | release API call p50 |');
  console.log('|---|---|---|---|---|---|');
  const fmt = (v: number) => `${v.toFixed(1)} ms`;
  apiTimes.sort((a, b) => a - b);
  console.log(
    `| Baton (SSE push) | ${fmt(at(0.5))} | ${fmt(at(0.9))} | ${fmt(p99)} | ${fmt(sorted.at(-1)!)} | ${fmt(apiTimes[Math.floor(apiTimes.length / 2)]!)} |`,
  );
  console.log(`| Apollo (documented, not run) | – | – | ≤ ${APOLLO_DOCUMENTED_MS} ms | – | – |`);
  console.log(`ratio: Apollo's documented 1 s / Baton p99 = ${(APOLLO_DOCUMENTED_MS / p99).toFixed(1)}×`);
} finally {
  for (const client of clients) client.close();
  await server.stop();
  await dir.remove();
}
