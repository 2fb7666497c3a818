// `baton apply` (and `up`) follow a rollout until the architecture converges or the
// rollout fails, showing progress as it goes.
import type { StoredEvent } from '../../ports/store.ts';
import type { ApiClient } from './client.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';
import type { StatusJson } from './commands/status.ts';

const POLL_MS = 400;

export async function followRollout(
  client: ApiClient,
  out: Output,
  revision: number,
  options: { afterSeq: number; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastLine = '';
  for (;;) {
    const { events } = await client.get<{ events: StoredEvent[] }>(
      `/v1/events?after=${options.afterSeq}&kind=revision.converged,rollout.failed,revision.rolled-back&limit=100`,
    );
    const status = await client.get<StatusJson>('/v1/status');
    const line = progressLine(status);
    if (line !== lastLine && !out.json) {
      if (out.color) process.stdout.write(`\r\x1b[K${line}`);
      else out.line(line);
      lastLine = line;
    }
    const converged = events.find((e) => e.kind === 'revision.converged' && e.revision === revision);
    const failed = events.find((e) => e.kind === 'rollout.failed' && e.revision === revision);
    if (converged || failed) {
      if (out.color) out.line();
      if (converged) {
        out.line(
          `${out.style('green', '✓')} revision ${revision} converged: every service runs its version, healthy`,
        );
        return;
      }
      out.error(`${out.style('red', '✗')} ${failed!.message}`);
      const rolledBack = events.find((e) => e.kind === 'revision.rolled-back' && e.seq > failed!.seq);
      if (rolledBack) out.error(`  ${rolledBack.message}`);
      out.error('  see `baton history` and `baton status`');
      throw new CliExit(EXIT.invalid);
    }
    if (Date.now() > deadline) {
      if (out.color) out.line();
      out.error(
        `baton: revision ${revision} has not converged after ${Math.round(options.timeoutMs / 1000)} s`,
      );
      out.error('  hint: `baton status` shows which services are behind; `baton logs SERVICE` shows why');
      throw new CliExit(EXIT.invalid);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function progressLine(status: StatusJson): string {
  const behind = status.services.filter((s) => !s.settled);
  const settled = status.services.length - behind.length;
  const detail = behind
    .slice(0, 4)
    .map((s) => `${s.service} ${s.ready}/${s.desired} ${s.phase}`)
    .join(', ');
  return `converging: ${settled}/${status.services.length} services settled${detail ? ` — ${detail}${behind.length > 4 ? ', …' : ''}` : ''}`;
}
