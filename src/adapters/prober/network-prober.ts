// The real Prober: HTTP GET, TCP connect, or a command, each bounded by a hard deadline.
// Failures of every kind come back as results — a probe that throws would take the health
// checker down with the instance it was checking.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Prober, ProbeResult, ProbeTarget } from '../../ports/prober.ts';

const USER_AGENT = 'baton-probe/0.1'; // probes are not traffic: the SDK and telemetry skip this agent
/** How much command output is kept to explain a failure. */
const OUTPUT_TAIL_CHARS = 2048;
const DETAIL_MAX_CHARS = 200;

interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
}

export class NetworkProber implements Prober {
  async probe(target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
    const started = performance.now();
    let outcome: Outcome;
    if (signal?.aborted) {
      outcome = { ok: false, detail: 'aborted' };
    } else {
      const deadline = new Deadline(timeoutMs, signal);
      try {
        outcome = await run(target, deadline);
      } catch (error) {
        // Only synchronous argument errors (a port out of range, a path with spaces) get here.
        deadline.dispose();
        outcome = { ok: false, detail: describeError(error) };
      }
    }
    return { ...outcome, durationMs: Math.round(performance.now() - started) };
  }
}

function run(target: ProbeTarget, deadline: Deadline): Promise<Outcome> {
  switch (target.kind) {
    case 'http':
      return probeHttp(target, deadline);
    case 'tcp':
      return probeTcp(target, deadline);
    case 'command':
      return probeCommand(target, deadline);
  }
}

/** Aborts on the timeout or the caller's signal, remembering which, until disposed. */
class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  #reason: string | undefined;

  constructor(timeoutMs: number, outer: AbortSignal | undefined) {
    this.#outer = outer;
    this.#timer = setTimeout(() => this.#abort(`timeout after ${timeoutMs} ms`), timeoutMs).unref();
    outer?.addEventListener('abort', this.#onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why it aborted, if it did. */
  get reason(): string | undefined {
    return this.#reason;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  readonly #onOuterAbort = () => this.#abort('aborted');

  #abort(reason: string): void {
    this.#reason ??= reason;
    this.dispose();
    this.#controller.abort();
  }
}

function probeHttp(target: Extract<ProbeTarget, { kind: 'http' }>, deadline: Deadline): Promise<Outcome> {
  return new Promise((resolve) => {
    const settle = once(resolve);
    const request = http.request({
      host: target.address,
      port: target.port,
      path: target.path,
      method: 'GET',
      // A fresh connection per probe: a pooled socket the instance has half-closed would
      // fail a probe the instance itself would have passed.
      agent: false,
      headers: { 'user-agent': USER_AGENT, connection: 'close', accept: '*/*' },
      signal: deadline.signal,
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      settle({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
      // The verdict is in the status line; the body is drained, never buffered, and cut off
      // by the deadline if it does not end.
      response.on('error', () => {});
      response.resume();
    });
    request.on('error', (error) => settle({ ok: false, detail: deadline.reason ?? describeError(error) }));
    request.on('close', () => {
      deadline.dispose();
      settle({ ok: false, detail: 'connection closed' });
    });
    request.end();
  });
}

function probeTcp(target: Extract<ProbeTarget, { kind: 'tcp' }>, deadline: Deadline): Promise<Outcome> {
  return new Promise((resolve) => {
    const settle = once(resolve);
    const socket = net.connect({ host: target.address, port: target.port });
    const onAbort = () => {
      settle({ ok: false, detail: deadline.reason ?? 'aborted' });
      socket.destroy();
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      settle({ ok: true, detail: 'connected' });
      socket.destroy();
    });
    socket.once('error', (error) => settle({ ok: false, detail: describeError(error) }));
    socket.once('close', () => {
      deadline.signal.removeEventListener('abort', onAbort);
      deadline.dispose();
      settle({ ok: false, detail: 'connection closed' });
    });
  });
}

function probeCommand(
  target: Extract<ProbeTarget, { kind: 'command' }>,
  deadline: Deadline,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const settle = once(resolve);
    // Its own process group, so that the deadline kills whatever the command started too.
    const child = spawn(target.command, [...target.args], {
      cwd: target.cwd,
      env: { ...target.env },
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) =>
      void (output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const onAbort = () => killGroup();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    const finish = (outcome: Outcome) => {
      deadline.signal.removeEventListener('abort', onAbort);
      deadline.dispose();
      child.stdout.destroy();
      child.stderr.destroy();
      settle(outcome);
    };
    child.once('error', (error) => {
      killGroup();
      finish({ ok: false, detail: `cannot run ${target.command}: ${describeError(error)}` });
    });
    child.once('exit', (code, signal) => {
      // A probe has no business leaving processes behind; whatever it forked goes with it.
      killGroup();
      if (deadline.reason !== undefined) return finish({ ok: false, detail: deadline.reason });
      if (code === 0) return finish({ ok: true, detail: 'exit 0' });
      const status = code === null ? `killed by ${signal ?? 'signal'}` : `exit ${code}`;
      const said = lastLine(output);
      finish({ ok: false, detail: said ? `${status}: ${said}` : status });
    });
  });
}

function once<T>(resolve: (value: T) => void): (value: T) => void {
  let done = false;
  return (value) => {
    if (done) return;
    done = true;
    resolve(value);
  };
}

function lastLine(text: string): string {
  const line = text.split(/\r?\n/).reduceRight((found, l) => found || l.trim(), '');
  return line.length > DETAIL_MAX_CHARS ? `${line.slice(0, DETAIL_MAX_CHARS - 1)}…` : line;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : error.message.slice(0, DETAIL_MAX_CHARS);
  }
  return String(error).slice(0, DETAIL_MAX_CHARS);
}
