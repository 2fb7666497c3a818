// Health probes for instances in containers. HTTP and TCP go from the host to the container's
// address, as for any instance; a command probe runs *inside* the container (`docker exec`),
// where the image's tools are (pg_isready, mysqladmin, curl) — the way a Dockerfile or compose
// HEALTHCHECK runs. The engine cannot kill an exec on timeout: a command that outlives its
// probe keeps running in the container until it ends by itself.
import type Docker from 'dockerode';
import type { Prober, ProbeResult, ProbeTarget } from '../../../ports/prober.ts';
import { LogFrames } from './log-frames.ts';

const DETAIL_MAX_CHARS = 200;

export interface ContainerProberOptions {
  readonly docker: Docker;
  /** HTTP and TCP probes. */
  readonly network: Prober;
  /** The container an instance runs in, while it runs. */
  readonly containerOf: (instance: string) => string | undefined;
}

export class ContainerProber implements Prober {
  readonly #o: ContainerProberOptions;

  constructor(options: ContainerProberOptions) {
    this.#o = options;
  }

  async probe(target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
    if (target.kind !== 'command') return this.#o.network.probe(target, timeoutMs, signal);
    const started = performance.now();
    const result = (ok: boolean, detail: string): ProbeResult => ({
      ok,
      detail: detail.slice(0, DETAIL_MAX_CHARS),
      durationMs: Math.round(performance.now() - started),
    });
    const containerId = this.#o.containerOf(target.instance);
    if (containerId === undefined) return result(false, `${target.instance} runs in no container`);
    if (signal?.aborted) return result(false, 'aborted');
    const container = this.#o.docker.getContainer(containerId);
    let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    const output: string[] = [];
    try {
      const exec = await container.exec({
        Cmd: [target.command, ...target.args],
        AttachStdout: true,
        AttachStderr: true,
      });
      const finished = (async () => {
        stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & {
          destroy?: () => void;
        };
        const frames = new LogFrames();
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (const { line } of frames.push(chunk)) output.push(line);
        }
        for (const { line } of frames.end()) output.push(line);
        return (await exec.inspect()).ExitCode;
      })();
      const outcome = await deadline(finished, timeoutMs, signal);
      if (outcome.kind !== 'done') {
        stream?.destroy?.();
        return result(false, outcome.kind === 'timeout' ? `timeout after ${timeoutMs} ms` : 'aborted');
      }
      const code = outcome.value;
      if (code === 0) return result(true, 'exit 0');
      const said = output.filter((line) => line.trim() !== '').at(-1);
      return result(false, `exit ${code}${said ? `: ${said.trim()}` : ''}`);
    } catch (error) {
      const reason = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
      return result(false, `cannot run ${target.command} in ${target.instance}: ${reason.trim()}`);
    }
  }
}

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'timeout' } | { kind: 'aborted' };

function deadline<T>(work: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<Outcome<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms).unref();
    const abort = () => resolve({ kind: 'aborted' });
    signal?.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => resolve({ kind: 'done', value }),
      (error: unknown) => reject(error as Error),
    );
    void work
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
      });
  });
}
