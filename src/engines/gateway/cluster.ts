// Multi-process mode: one gateway per core, all on one port (node:cluster hands connections
// out). Each worker is a full gateway following the snapshot stream on its own, so workers
// are as independent as separate gateways; the primary only supervises and, when asked,
// serves the workers' metrics added together on an admin port.
//
// Call `startGatewayCluster` from the entry script in every process: in the primary it forks
// the workers (which run that same script again), in a worker it starts the gateway. Each
// process therefore builds its own logger and snapshot source from the same arguments.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { adminBindProblem, createAdminServer } from './admin-server.ts';
import { startGateway } from './gateway.ts';
import type { GatewayOptions } from './gateway.ts';

export interface GatewayClusterOptions extends GatewayOptions {
  /** Gateway processes; defaults to one per core. */
  readonly workers?: number | undefined;
}

export interface GatewayClusterHandle {
  readonly url: string;
  /** The primary's admin port (metrics summed over workers); in a worker, none. */
  readonly adminUrl?: string | undefined;
  /** Process ids of the workers running now (in a worker: its own). */
  readonly pids: () => number[];
  /** Drains every worker gracefully, then stops them. */
  close(): Promise<void>;
}

const READY = 'baton-gateway:ready';
const SHUTDOWN = 'baton-gateway:shutdown';
/** A worker that dies is replaced after this long, so a crash loop does not spin. */
const RESPAWN_DELAY_MS = 1_000;

interface ReadyMessage {
  readonly type: typeof READY;
  readonly url: string;
}

export async function startGatewayCluster(options: GatewayClusterOptions): Promise<GatewayClusterHandle> {
  return cluster.isPrimary ? startPrimary(options) : startWorker(options);
}

async function startWorker(options: GatewayClusterOptions): Promise<GatewayClusterHandle> {
  const gateway = await startGateway({ ...options, adminPort: undefined });
  // The primary asks each worker for its registry when /metrics is scraped.
  AggregatorRegistry.setRegistries([gateway.registry]);
  new AggregatorRegistry();
  const stop = () => {
    void gateway.close().finally(() => process.exit(0));
  };
  process.on('message', (message: unknown) => {
    if ((message as { type?: string } | null)?.type === SHUTDOWN) stop();
  });
  // The primary is gone: nobody supervises this worker any more.
  process.once('disconnect', stop);
  process.send?.({ type: READY, url: gateway.url } satisfies ReadyMessage);
  return { url: gateway.url, pids: () => [process.pid], close: gateway.close };
}

async function startPrimary(options: GatewayClusterOptions): Promise<GatewayClusterHandle> {
  if (options.adminPort !== undefined) {
    const problem = adminBindProblem(options.adminHost ?? options.host, options.metricsToken);
    if (problem !== undefined) throw new Error(problem);
  }
  const count = Math.max(1, options.workers ?? (await import('node:os')).availableParallelism());
  const log = options.logger;
  const aggregator = new AggregatorRegistry();
  const workers = new Set<Worker>();
  let closing = false;
  let url: string | undefined;

  const fork = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      workers.add(worker);
      worker.on('message', (message: unknown) => {
        const ready = message as Partial<ReadyMessage> | null;
        if (ready?.type === READY && typeof ready.url === 'string') resolve(ready.url);
      });
      worker.once('exit', (code, signal) => {
        workers.delete(worker);
        reject(
          new Error(`gateway worker ${worker.process.pid} exited (${signal ?? code}) before it was ready`),
        );
        if (closing) return;
        log.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
        setTimeout(() => {
          if (!closing)
            fork().catch((error: unknown) => log.error({ err: error }, 'gateway worker failed to start'));
        }, RESPAWN_DELAY_MS).unref();
      });
    });

  try {
    const urls = await Promise.all(Array.from({ length: count }, fork));
    url = urls[0]!;
  } catch (error) {
    closing = true;
    for (const worker of workers) worker.kill();
    throw error;
  }

  let admin: http.Server | undefined;
  let adminUrl: string | undefined;
  if (options.adminPort !== undefined) {
    admin = createAdminServer(
      {
        metrics: async () => ({
          text: await aggregator.clusterMetrics(),
          contentType: aggregator.contentType,
        }),
        health: () => {
          const ok = workers.size > 0 && !closing;
          return { ok, body: { status: ok ? 'ok' : 'down', workers: workers.size } };
        },
      },
      options.metricsToken,
    );
    const host = options.adminHost ?? options.host;
    const server = admin;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.adminPort }, resolve);
    });
    adminUrl = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  }
  log.info({ url, adminUrl, workers: count }, 'gateway cluster listening');

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    const graceMs = (options.drainTimeoutMs ?? 30_000) + 5_000;
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => worker.kill('SIGKILL'), graceMs).unref();
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (worker.isConnected()) worker.send({ type: SHUTDOWN });
            else worker.kill();
          }),
      ),
    );
    if (admin !== undefined) {
      const server = admin;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };

  return {
    url,
    adminUrl,
    pids: () => [...workers].flatMap((w) => (w.process.pid === undefined ? [] : [w.process.pid])),
    close: () => (closed ??= close()),
  };
}
