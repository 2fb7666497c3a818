// Snapshots from the control plane: GET /v1/gateway/snapshot once, then follow
// GET /v1/gateway/watch (Server-Sent Events, `event: snapshot`, `data: <snapshot JSON>`).
// When the control plane is unreachable the gateway keeps routing by the last snapshot it
// has and reconnects with jittered exponential backoff; a snapshot whose sequence is not
// newer than the last one delivered is dropped (replays after a reconnect), unless it comes
// from another epoch (a restarted control plane counts from the start again). Given several
// replicas (comma-separated), a gateway that loses one moves on to the next at once; it backs
// off only once it went round them all. Each replica's snapshots have an epoch of their own,
// so the first from the next replica is taken whatever its sequence.
import type { Logger } from 'pino';
import { request } from 'undici';
import { parseGatewaySnapshot } from '../../domain/gateway/snapshot-schema.ts';
import { isNewer } from './core.ts';
import type { SnapshotSource } from './snapshot-source.ts';
import { SseParser } from './sse-parser.ts';

export interface ControlPlaneSourceOptions {
  /** Base URL of the control plane, e.g. http://127.0.0.1:7070; several replicas' comma-separated. */
  readonly url: string;
  readonly logger: Logger;
  /** Sent as `Authorization: Bearer …`; never logged. */
  readonly token?: string | undefined;
  /** First reconnect delay; doubles up to `maxBackoffMs`. Default 250 ms. */
  readonly initialBackoffMs?: number | undefined;
  /** Default 10 s. */
  readonly maxBackoffMs?: number | undefined;
  /**
   * Silence on the watch stream (the control plane sends a heartbeat every 15 s) after which
   * the connection is presumed dead and replaced. Default 45 s.
   */
  readonly idleTimeoutMs?: number | undefined;
  readonly random?: (() => number) | undefined;
}

/** Largest snapshot accepted, in bytes (10,000 services with endpoints fit well within). */
const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

export function controlPlaneSource(options: ControlPlaneSourceOptions): SnapshotSource {
  const urls = options.url
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter((url) => url !== '');
  let base = urls[0]!;
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const random = options.random ?? Math.random;
  const log = options.logger;

  return {
    subscribe(onSnapshot) {
      let stopped = false;
      let last: { sequence: number; epoch: string | undefined } | undefined;
      let controller = new AbortController();
      let sleepTimer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      let failing = false;

      const deliver = (value: unknown, from: string): void => {
        if (stopped) return;
        const parsed = parseGatewaySnapshot(value);
        if (!parsed.ok) {
          log.warn({ from, problems: parsed.error }, 'ignoring an invalid gateway snapshot');
          return;
        }
        if (!isNewer(parsed.snapshot, last)) return;
        last = { sequence: parsed.snapshot.sequence, epoch: parsed.snapshot.epoch };
        onSnapshot(parsed.snapshot);
      };

      const fetchSnapshot = async (): Promise<void> => {
        const response = await request(`${base}/v1/gateway/snapshot`, {
          headers: { ...headers, accept: 'application/json' },
          signal: controller.signal,
          headersTimeout: 10_000,
          bodyTimeout: 30_000,
        });
        if (response.statusCode !== 200) {
          const text = await response.body.text().catch(() => '');
          throw new Error(`GET /v1/gateway/snapshot answered ${response.statusCode}: ${text.slice(0, 200)}`);
        }
        const text = await readLimited(response.body, MAX_SNAPSHOT_BYTES);
        deliver(JSON.parse(text), 'snapshot');
      };

      const watch = async (): Promise<void> => {
        const response = await request(`${base}/v1/gateway/watch`, {
          headers: { ...headers, accept: 'text/event-stream' },
          signal: controller.signal,
          headersTimeout: 10_000,
          bodyTimeout: idleTimeoutMs,
        });
        if (response.statusCode !== 200) {
          const text = await response.body.text().catch(() => '');
          throw new Error(`GET /v1/gateway/watch answered ${response.statusCode}: ${text.slice(0, 200)}`);
        }
        if (failing) log.info({ url: base }, 'gateway reconnected to the control plane');
        failing = false;
        const parser = new SseParser(MAX_SNAPSHOT_BYTES);
        response.body.setEncoding('utf8');
        for await (const chunk of response.body) {
          // Snapshots are whole: when several arrived together, only the last one matters,
          // and at thousands of services parsing one costs tens of milliseconds.
          let latest: string | undefined;
          for (const event of parser.push(chunk as string))
            if (event.event === 'snapshot') latest = event.data;
          if (latest === undefined) continue;
          let value: unknown;
          try {
            value = JSON.parse(latest);
          } catch {
            log.warn('ignoring a gateway snapshot event that is not JSON');
            continue;
          }
          deliver(value, 'watch');
        }
        throw new Error('the control plane closed the watch stream');
      };

      const sleep = (ms: number) =>
        new Promise<void>((resolve) => {
          wake = resolve;
          sleepTimer = setTimeout(resolve, ms);
        });

      const run = async (): Promise<void> => {
        let backoff = initialBackoffMs;
        let next = 0;
        while (!stopped) {
          base = urls[next % urls.length]!;
          let connected = false;
          try {
            await fetchSnapshot();
            connected = true;
            await watch();
          } catch (error) {
            if (stopped) return;
            if (!failing) {
              log.warn(
                { url: base, err: (error as Error).message },
                'gateway lost the control plane; routing by the last snapshot while reconnecting',
              );
            }
            failing = true;
          }
          if (connected) backoff = initialBackoffMs;
          // Another replica may answer: try it at once, and wait only after a full round.
          next++;
          if (next % urls.length !== 0 && !stopped) {
            controller = new AbortController();
            continue;
          }
          // Full jitter between half and all of the current backoff: gateways restarted
          // together do not reconnect together.
          await sleep(backoff / 2 + random() * (backoff / 2));
          backoff = Math.min(maxBackoffMs, backoff * 2);
          controller = new AbortController();
        }
      };
      void run();

      return () => {
        stopped = true;
        controller.abort();
        if (sleepTimer !== undefined) clearTimeout(sleepTimer);
        wake?.();
      };
    },
  };
}

async function readLimited(body: AsyncIterable<Buffer | string>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > max) throw new Error(`the snapshot exceeds ${max} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
