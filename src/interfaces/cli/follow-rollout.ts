// `baton apply` (and `up`) follow a rollout until the architecture converges or the
// rollout fails, saying as it goes what each unsettled service waits for and how long is left
// before its deadline — never minutes of silence — and, when it fails, why: the exit and the
// last lines the instance wrote.
import type { ExitFact } from '../../domain/lifecycle/instance-exit.ts';
import type { StoredEvent } from '../../ports/store.ts';
import type { ApiClient } from './client.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';
import type { StatusJson } from './commands/status.ts';

const POLL_MS = 400;

export interface FollowOptions {
  /** Only events after this sequence number belong to this rollout. */
  readonly afterSeq: number;
  readonly timeoutMs: number;
  /** Stops following quietly (Ctrl-C in `baton up`). */
  readonly signal?: AbortSignal | undefined;
}

export async function followRollout(
  client: ApiClient,
  out: Output,
  revision: number,
  options: FollowOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const { signal } = options;
  let lastShown = '';
  let lastShape = '';
  while (!signal?.aborted) {
    let events: StoredEvent[];
    let status: StatusJson;
    try {
      ({ events } = await client.get<{ events: StoredEvent[] }>(
        `/v1/events?after=${options.afterSeq}&kind=revision.converged,rollout.failed,revision.rolled-back&limit=100`,
      ));
      status = await client.get<StatusJson>('/v1/status');
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
    const lines = progressLines(status, revision);
    const shown = lines.join('\n');
    // On a terminal the lines are redrawn in place; elsewhere a line is printed when what it
    // says changes, not when its seconds tick.
    const shape = shown.replace(/\d+/g, '#');
    if (!out.json && (out.color ? shown !== lastShown : shape !== lastShape)) {
      if (out.color) {
        const previous = lastShown === '' ? 0 : lastShown.split('\n').length;
        if (previous > 0) process.stdout.write(`\x1b[${previous}F\x1b[J`);
      }
      for (const line of lines) out.line(line);
      lastShown = shown;
      lastShape = shape;
    }
    const converged =
      events.some((e) => e.kind === 'revision.converged' && e.revision === revision) ||
      settledAt(status, revision);
    if (converged) {
      out.line(
        `${out.style('green', '✓')} revision ${revision} converged: every service runs its version, healthy`,
      );
      return;
    }
    const failed = events.find((e) => e.kind === 'rollout.failed' && e.revision === revision);
    if (failed) {
      out.error(`${out.style('red', '✗')} ${failed.message}`);
      printExit(out, failed.data?.['exit'] as ExitFact | undefined);
      const rolledBack = events.find((e) => e.kind === 'revision.rolled-back' && e.seq > failed.seq);
      if (rolledBack) out.error(`  ${rolledBack.message}`);
      out.error('  see `baton status`, `baton logs SERVICE` and `baton history`');
      throw new CliExit(EXIT.invalid);
    }
    const stuck = status.services.find((s) => s.revision === revision && s.phase === 'failed');
    if (stuck) {
      // Failed outside a rollout (a cold start of a revision that converged before): nothing will change by itself.
      out.error(
        `${out.style('red', '✗')} ${stuck.service} is failed: ${stuck.reason ?? 'see `baton status`'}`,
      );
      const dead = status.instances.find((i) => i.service === stuck.service && i.lastExit !== undefined);
      printExit(out, dead?.lastExit);
      out.error(`  see \`baton status ${stuck.service}\` and \`baton logs ${stuck.service}\``);
      throw new CliExit(EXIT.invalid);
    }
    if (Date.now() > deadline) {
      out.error(
        `baton: revision ${revision} has not converged after ${Math.round(options.timeoutMs / 1000)} s`,
      );
      out.error('  hint: `baton status` shows which services are behind and why; `baton logs SERVICE` more');
      throw new CliExit(EXIT.invalid);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** Every service of the revision settled at it: converged, whether or not this run recorded it. */
function settledAt(status: StatusJson, revision: number): boolean {
  return (
    status.revision === revision &&
    status.services.length > 0 &&
    status.services.every((s) => s.settled && s.revision === revision)
  );
}

/** One line for the whole, then one per service that is behind: why, and the time left. */
export function progressLines(status: StatusJson, revision: number, now = Date.now()): string[] {
  const behind = status.services.filter((s) => !s.settled);
  const settled = status.services.length - behind.length;
  const lines = [
    status.services.length === 0
      ? `revision ${revision}: waiting for the controller`
      : `revision ${revision}: ${settled}/${status.services.length} services settled`,
  ];
  for (const s of behind.slice(0, 8)) {
    const left = s.deadline ? `; ${timeLeft(Date.parse(s.deadline) - now)} to its deadline` : '';
    lines.push(`  ${s.service} ${s.ready}/${s.desired} ${s.phase}${s.reason ? ` — ${s.reason}` : ''}${left}`);
  }
  if (behind.length > 8) lines.push(`  … and ${behind.length - 8} more (baton status)`);
  return lines;
}

function printExit(out: Output, exit: ExitFact | undefined): void {
  if (!exit || exit.output.length === 0) return;
  out.error(`  its last output (${exit.reason}):`);
  for (const line of exit.output) out.error(`    ${line}`);
}

function timeLeft(ms: number): string {
  if (ms <= 0) return 'past';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
