// What the process benchmarks share: free ports, health polling of a fixture instance, and
// finding every process a run left behind. Each run marks what it starts with
// BATON_BENCH_TAG=<tag> in the environment — set at exec, so a process is recognisable from
// its first instant, whoever spawned it (the benchmark, Baton, or PM2's daemon).
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const TAG_VARIABLE = 'BATON_BENCH_TAG';
export const FIXTURE = new URL('./fixtures/healthz-server.js', import.meta.url).pathname;

/** `n` distinct free ports on `host`: all bound at once (so the kernel cannot repeat one), then released. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen({ port: 0, host, exclusive: true }, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** One GET /healthz on a fresh connection: true on 200. */
export function probe(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/healthz', agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** Polls GET /healthz every `intervalMs` until it answers 200; rejects after `timeoutMs`. */
export async function waitHealthy(port: number, intervalMs: number, timeoutMs = 30_000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!(await probe(port))) {
    if (performance.now() > giveUpAt) throw new Error(`port ${port} not healthy within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Pids of live processes whose environment carries `tag` (Linux /proc; we run as their owner). */
export async function taggedProcesses(tag: string): Promise<number[]> {
  const mark = Buffer.from(`${TAG_VARIABLE}=${tag}\0`);
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found = await Promise.all(
    pids.map(async (pid) => {
      if (pid === process.pid) return undefined;
      const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
      if (environ === undefined || !environ.includes(mark)) return undefined;
      // A zombie still shows its environment until reaped; it is not alive.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      return /\) Z /.test(stat) ? undefined : pid;
    }),
  );
  return found.filter((pid) => pid !== undefined);
}

/** SIGKILLs whatever still carries `tag`, waits for it to go, and returns how many there were. */
export async function killTagged(tag: string): Promise<number> {
  const pids = await taggedProcesses(tag);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: gone in between.
    }
  }
  for (let i = 0; i < 100 && (await taggedProcesses(tag)).length > 0; i++) await sleep(20);
  return pids.length;
}
