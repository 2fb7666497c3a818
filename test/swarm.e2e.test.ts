// The swarm runtime end to end, on the three-node cluster of scripts/local-swarm.sh (made here,
// taken down after): the example shop spread by placement labels (web on the edge node, the
// rest on the app nodes), then one app node killed — its dockerd, containerd and containers —
// under steady idempotent load through the gateway. Its instances must leave discovery, by
// Baton's own probes, long before Swarm's node-down detection; capacity must come back on the
// surviving nodes; and no request may fail. The same node loss is then measured, in the same
// run, with a plain `docker service` of the same image (clients following the manager's task
// list, the best a client can do with no routing mesh), and both are printed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEngine } from '../src/adapters/runtime/docker/docker-engine.ts';
import { ImageBuilder } from '../src/adapters/runtime/docker/image-builder.ts';
import { removeLabelled } from '../src/adapters/runtime/docker/test-engine.ts';
import { MANAGER_HOST, upTestCluster, type TestCluster } from '../src/adapters/runtime/swarm/test-cluster.ts';
import { bearer, serverToken } from './support/api-token.ts';
import { REPO, runCli, tempDir } from './support/baton-process.ts';
import { startUp, type UpProcess } from './support/baton-up.ts';
import { eventually } from './support/eventually.ts';

const system = connectEngine(process.env.DOCKER_HOST);
const SERVICES = ['web', 'orders', 'inventory', 'payments', 'ledger', 'notifications'];

interface InstanceJson {
  readonly id: string;
  readonly service: string;
  readonly phase: string;
  readonly version: string;
  readonly node?: string;
  readonly address?: string;
}

/** The control plane's admin token, read once `baton up` has written it. */
let token = '';

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: bearer(token), signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Steady load: `concurrency` loops of GET, counting what failed, until stopped. */
function steadyLoad(target: () => string | undefined, concurrency = 4) {
  const counts = { ok: 0, failed: 0, errors: new Map<string, number>() };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const url = target();
      if (url === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.ok) counts.ok++;
        else fail(`${response.status}`);
      } catch (error) {
        fail((error as Error).cause ? String((error as Error).cause) : (error as Error).message);
      }
    }
  });
  function fail(reason: string) {
    counts.failed++;
    counts.errors.set(reason, (counts.errors.get(reason) ?? 0) + 1);
  }
  const load = {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
      loads.delete(load);
    },
  };
  loads.add(load);
  return load;
}

/** Loads still running: `after` stops them, so that a failed test never leaves one spinning. */
const loads = new Set<{ stop(): Promise<void> }>();

describe('the shop on a three-node swarm, one node lost under load', { timeout: 600_000 }, () => {
  const architecture = `shop-s${randomBytes(3).toString('hex')}`;
  let dir: { path: string; remove: () => Promise<void> };
  let cluster: TestCluster | undefined;
  let shop: UpProcess | undefined;
  let image: string;

  before(async () => {
    dir = await tempDir('swarm-shop');
    // One image holding every service of the shop (the shop's Dockerfile, all its service files):
    // one build instead of six keeps this test's time small. Built on this machine's engine,
    // then copied into every node: Swarm never pulls here.
    image = `${architecture}/all:1`;
    await new ImageBuilder({
      docker: system,
      node: { nodePath: process.execPath, nodeVersion: process.version },
    }).build({
      tag: image,
      contextDir: REPO,
      dockerfile: 'examples/shop/Dockerfile',
      args: { SERVICE: '*' },
      target: 'service',
      labels: { 'dev.baton.test': architecture },
    });
    // The shop's own manifest under a name of its own, running that image; web on the edge
    // node, the rest on the app nodes.
    const text = (await readFile(join(REPO, 'examples/shop/baton.yaml'), 'utf8'))
      .replace(/^name: shop$/m, `name: ${architecture}`)
      .replace(/^ {4}build: .*\n/gm, `    image: ${image}\n`)
      .replace(
        /^( {4}cmd: \[services\/(\w+)\.ts\]\n)/gm,
        (line: string, _: string, service: string) =>
          `${line}    placement: { labels: { role: ${service === 'web' ? 'edge' : 'app'} } }\n`,
      );
    assert.equal(text.match(/placement:/g)?.length, SERVICES.length);
    await writeFile(join(dir.path, 'baton.yaml'), text);
    cluster = await upTestCluster([image]);
  });

  after(async () => {
    await Promise.all([...loads].map((load) => load.stop()));
    await shop?.stop();
    await cluster?.down();
    const state = join(dir.path, 'state');
    const owner = (await readFile(join(state, 'owner'), 'utf8').catch(() => '')).trim();
    if (owner !== '') await removeLabelled(system, [`dev.baton.owner=${owner}`]);
    await removeLabelled(system, [`dev.baton.test=${architecture}`]);
    await dir?.remove();
  });

  it('takes the lost node’s instances out of discovery at once, restores capacity elsewhere, fails no request; a plain docker service for comparison', async (t) => {
    const state = join(dir.path, 'state');
    shop = await startUp(
      join(dir.path, 'baton.yaml'),
      state,
      ['--runtime', 'swarm', '--log-level', 'warn', '--gateway', '127.0.0.1:0'],
      60_000,
      { DOCKER_HOST: MANAGER_HOST },
    );
    const gateway = await eventually(
      () => /Gateway: (http:\/\/\S+)/.exec(shop!.output())?.[1],
      60_000,
      'the gateway',
    );
    await eventually(() => /revision 1 converged/.test(shop!.output()), 120_000, 'the shop to converge');
    const url = shop.url;
    token = await serverToken(state);
    const instances = (await getJson<{ instances: InstanceJson[] }>(`${url}/v1/instances`)).instances.filter(
      (i) => i.phase === 'running',
    );
    // Spread by placement labels: web on the edge node, everything else on the app nodes.
    for (const instance of instances)
      if (instance.service === 'web') assert.equal(instance.node, 'baton-node1', instance.id);
      else assert.match(instance.node ?? '', /^baton-node[23]$/, instance.id);
    const ordersNodes = instances.filter((i) => i.service === 'orders').map((i) => i.node!);
    // The app node holding an orders instance (both, usually: Swarm spreads) is the one to lose.
    const lost = ordersNodes.includes('baton-node3') ? 3 : 2;
    const lostNode = `baton-node${lost}`;
    const lostAddress = `10.77.0.${10 + lost}`;
    t.diagnostic(
      `placement: ${instances.map((i) => `${i.service}@${i.node}`).join(' ')}; losing ${lostNode}`,
    );

    const checkout = await fetch(`${gateway}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
    });
    assert.equal(checkout.status, 201, await checkout.text());

    // ---- Baton
    const load = steadyLoad(() => `${gateway}/api/orders`);
    await eventually(() => load.counts.ok >= 200 || undefined, 30_000, 'steady load going');
    const lostAt = Date.now();
    await cluster!.script('stop', String(lost));
    const endpoints = async (service: string) =>
      (await getJson<{ endpoints: { address: string }[] }>(`${url}/v1/discovery/${service}`)).endpoints;
    await eventually(
      async () => {
        for (const service of SERVICES)
          if ((await endpoints(service)).some((e) => e.address === lostAddress)) return undefined;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: `no endpoint on ${lostNode} in discovery` },
    );
    const outOfDiscoveryMs = Date.now() - lostAt;
    const restored = await eventually(
      async () => {
        const now = (await getJson<{ instances: InstanceJson[] }>(`${url}/v1/instances`)).instances;
        const running = now.filter((i) => i.phase === 'running' && i.node !== lostNode);
        const before = SERVICES.map((s) => instances.filter((i) => i.service === s).length);
        const after = SERVICES.map((s) => running.filter((i) => i.service === s).length);
        return after.every((n, k) => n >= before[k]!) ? running : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 50,
        what: 'every service back to its instances on the surviving nodes',
      },
    );
    const restoredMs = Date.now() - lostAt;
    const okAtRestore = load.counts.ok;
    await eventually(
      () => load.counts.ok >= okAtRestore + 200 || undefined,
      30_000,
      'load after the restore',
    );
    await load.stop();
    const baton = { ...load.counts, outOfDiscoveryMs, restoredMs };
    t.diagnostic(
      `baton: ${lostNode} lost → out of discovery after ${outOfDiscoveryMs} ms, capacity back after ${restoredMs} ms; ` +
        `${baton.ok + baton.failed} GET /api/orders through the gateway, ${baton.failed} failed ${JSON.stringify([...baton.errors])}`,
    );
    assert.ok(restored.every((i) => i.node !== lostNode));

    // Baton's rollouts and service rollbacks work as on one machine (the node still lost).
    const env = { BATON_SERVER: url, BATON_STATE_DIR: state };
    const manifest = join(dir.path, 'baton.yaml');
    const bumped = join(dir.path, 'baton-2.yaml');
    await writeFile(
      bumped,
      (await readFile(manifest, 'utf8')).replace(/^( {2}orders:\n {4}version: )2\.1\.0$/m, '$12.2.0'),
    );
    const ordersAt = async (version: string) =>
      (await getJson<{ instances: InstanceJson[] }>(`${url}/v1/instances?service=orders`)).instances.filter(
        (i) => i.phase === 'running' && i.version === version && i.node !== lostNode,
      ).length;
    const applied = await runCli(['apply', '-f', bumped, '-m', 'orders 2.2.0'], env);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal(await ordersAt('2.2.0'), 2);
    const rolledBack = await runCli(['rollback', 'orders', '--yes', '-m', 'back to 2.1.0'], env);
    assert.equal(rolledBack.code, 0, rolledBack.stdout + rolledBack.stderr);
    assert.equal(await ordersAt('2.1.0'), 2);

    // ---- The same loss with a plain `docker service`, the node back first.
    await shop.stop();
    shop = undefined;
    await cluster!.script('start', String(lost));
    const manager = cluster!.manager;
    await eventually(
      async () => {
        const nodes = (await manager.listNodes()) as {
          Description: { Hostname: string };
          Status: { State: string };
        }[];
        return nodes.every((n) => n.Status.State === 'ready') || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${lostNode} ready again` },
    );
    const plain = await manager.createService({
      Name: `plain-${architecture}`,
      Labels: { 'dev.baton.test': architecture },
      TaskTemplate: {
        ContainerSpec: { Image: image, Args: ['services/orders.ts'], Env: ['PORT=8080'], Init: true },
        Placement: { Constraints: ['node.labels.role==app'] },
      },
      Mode: { Replicated: { Replicas: 2 } },
      EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] },
    });
    type TaskJson = {
      NodeID: string;
      DesiredState: string;
      Status: { State: string; PortStatus?: { Ports?: { PublishedPort: number }[] } };
    };
    const live = (task: TaskJson) => task.DesiredState === 'running' && task.Status.State === 'running';
    const nodeAddresses = new Map(
      ((await manager.listNodes()) as { ID: string; Status: { Addr: string } }[]).map((n) => [
        n.ID,
        n.Status.Addr,
      ]),
    );
    // What a client can know with no routing mesh: the running tasks' node:port, read every 500 ms.
    let targets: string[] = [];
    const readTargets = async () => {
      const tasks = (await manager.listTasks({
        filters: JSON.stringify({ service: [plain.id as string] }),
      })) as TaskJson[];
      targets = tasks
        // A task on a node the manager cannot reach stays `running` in its view; its desired
        // state says the manager gave up on it.
        .filter((task) => live(task) && task.Status.PortStatus?.Ports?.[0])
        .map(
          (task) =>
            `http://${nodeAddresses.get(task.NodeID)}:${task.Status.PortStatus!.Ports![0]!.PublishedPort}`,
        );
      return tasks;
    };
    let next = 0;
    const plainLoad = steadyLoad(() =>
      targets.length === 0 ? undefined : `${targets[next++ % targets.length]}/api/orders`,
    );
    const refresh = setInterval(() => void readTargets().catch(() => {}), 500);
    try {
      const placed = await eventually(
        async () => {
          const tasks = await readTargets();
          const running = tasks.filter(live);
          return running.length === 2 && targets.length === 2 ? running : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the plain service’s two tasks running' },
      );
      await eventually(
        () => plainLoad.counts.ok >= 200 || undefined,
        30_000,
        'steady load on the plain service',
      );
      const lostId = [...nodeAddresses].find(([, address]) => address === lostAddress)?.[0];
      const plainLost = placed.some((task) => task.NodeID === lostId) ? lost : lost === 3 ? 2 : 3;
      const plainLostAddress = `10.77.0.${10 + plainLost}`;
      const plainLostId = [...nodeAddresses].find(([, address]) => address === plainLostAddress)?.[0];
      const plainLostAt = Date.now();
      await cluster!.script('stop', String(plainLost));
      await eventually(
        async () => {
          const tasks = await readTargets();
          return (
            (!targets.some((target) => target.includes(`//${plainLostAddress}:`)) &&
              tasks.filter((task) => live(task) && task.NodeID !== plainLostId).length >= 2) ||
            undefined
          );
        },
        { timeoutMs: 120_000, intervalMs: 100, what: 'Swarm to replace the lost task' },
      );
      const plainRestoredMs = Date.now() - plainLostAt;
      const okAtPlainRestore = plainLoad.counts.ok;
      await eventually(
        () => plainLoad.counts.ok >= okAtPlainRestore + 200 || undefined,
        30_000,
        'load after',
      );
      await plainLoad.stop();
      t.diagnostic(
        `plain docker service: baton-node${plainLost} lost → the lost task out of the task list and replaced after ${plainRestoredMs} ms; ` +
          `${plainLoad.counts.ok + plainLoad.counts.failed} GET /api/orders straight to the tasks, ${plainLoad.counts.failed} failed`,
      );
    } finally {
      clearInterval(refresh);
      await plainLoad.stop();
      await manager
        .getService(plain.id as string)
        .remove()
        .catch(() => {});
    }
    assert.equal(baton.failed, 0, `failed requests through Baton: ${JSON.stringify([...baton.errors])}`);
  });
});
