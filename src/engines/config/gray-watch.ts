// Watches a gray config release like a canary (domain/config/gray-verdict.ts decides): the
// gray instances' own figures against their services' gating objectives. A breach rolls the
// release back, the event saying which objective and by how much; a release that stayed
// healthy for its watch is promoted when it asked to be. Runs on the leader only, as the
// alert engine does: one replica decides.
import type { Logger } from 'pino';
import { slosOf, type SloSlot } from '../../domain/alerts/slo.ts';
import { grayVerdict, type GrayVerdict } from '../../domain/config/gray-verdict.ts';
import { DEFAULT_GRAY_WATCH } from '../../domain/config/gray.ts';
import { BatonError } from '../../domain/errors.ts';
import { parseDuration } from '../../domain/health/duration.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { ConfigCenter, ConfigInstance } from './config-center.ts';

/** Who gray releases are promoted or rolled back by, in events. */
export const GRAY_WATCH_ACTOR = 'gray-watch';

export interface GrayWatchOptions {
  readonly center: ConfigCenter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly current: () => Promise<Manifest | undefined>;
  /** Live instances (serving or on their way). */
  readonly instances: () => readonly ConfigInstance[];
  /** These instances' figures together, one point per slot, oldest first; the last may be filling. */
  readonly series: (instances: readonly string[]) => readonly SloSlot[];
  readonly slotMs: number;
  /** How often to look (a breach is seen at most this late after a slot completes). */
  readonly everyMs?: number | undefined;
}

export class GrayWatch {
  readonly #o: GrayWatchOptions;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: GrayWatchOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  /** One look at the gray release, if there is one; what was decided (for tests). */
  async evaluate(): Promise<GrayVerdict | undefined> {
    const gray = this.#o.center.state.gray;
    if (gray?.gray === undefined) return undefined;
    const manifest = await this.#o.current();
    const onGray = this.#o.instances().filter((i) => this.#o.center.configFor(i).release === gray.number);
    const byService = new Map<string, string[]>();
    for (const instance of onGray) {
      const ids = byService.get(instance.service) ?? [];
      ids.push(instance.id);
      byService.set(instance.service, ids);
    }
    const now = this.#o.clock.now().getTime();
    const slots: Record<string, SloSlot[]> = {};
    const counts: Record<string, number> = {};
    for (const [service, ids] of byService) {
      slots[service] = this.#o.series(ids).filter((s) => s.startMs + this.#o.slotMs <= now);
      counts[service] = ids.length;
    }
    const verdict = grayVerdict({
      gates: manifest ? slosOf(manifest).filter((s) => s.gate && byService.has(s.service)) : [],
      slots,
      instances: counts,
      slotMs: this.#o.slotMs,
      startedMs: Date.parse(gray.createdAt),
      watchMs: parseDuration(gray.gray.watch ?? DEFAULT_GRAY_WATCH),
      autoPromote: gray.gray.autoPromote === true,
      nowMs: now,
    });
    try {
      if (verdict.kind === 'breached') {
        await this.#o.center.abort(GRAY_WATCH_ACTOR, { release: gray.number, reason: verdict.reason });
        this.#o.logger.warn(
          { release: gray.number, reason: verdict.reason },
          'gray config release rolled back',
        );
      } else if (verdict.kind === 'promote') {
        await this.#o.center.promote(GRAY_WATCH_ACTOR, { release: gray.number, reason: verdict.reason });
        this.#o.logger.info({ release: gray.number }, 'gray config release promoted');
      }
    } catch (error) {
      // A person ended it first: nothing left to decide.
      if (!(error instanceof BatonError && error.code === 'no-gray-release')) throw error;
    }
    return verdict;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#running = this.evaluate()
        .then(() => undefined)
        .catch((error: unknown) => this.#o.logger.error({ err: error }, 'gray config watch failed'))
        .finally(() => {
          this.#running = undefined;
          this.#schedule();
        });
    }, this.#o.everyMs ?? 2_000);
  }
}
