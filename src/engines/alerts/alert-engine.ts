// Evaluates every service-level objective of the current revision once per RED slot, and
// turns what changes into `alert.fired` / `alert.resolved` events, an optional webhook, and,
// for gating objectives, a stopped rollout. Firing state is replayed from the event log on
// start, so a restarted control plane neither forgets an alert nor fires it twice.
import type { Logger } from 'pino';
import {
  alertTransition,
  describeSlo,
  readSlo,
  slosOf,
  type Slo,
  type SloReading,
  type SloSlot,
} from '../../domain/alerts/slo.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';

export const ALERT_EVENT_KINDS = ['alert.fired', 'alert.resolved'];
const WEBHOOK_TIMEOUT_MS = 5_000;

export interface AlertEngineOptions {
  readonly store: Store;
  readonly engine: RevisionEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A service's figures, one entry per slot, oldest first; the last may still be filling. */
  readonly slots: (service: string) => readonly SloSlot[];
  readonly slotMs: number;
  /** Stops the service's rollout if one is under way; returns whether it did. */
  readonly abortRollout: (service: string, reason: string) => Promise<boolean>;
  readonly fetch?: typeof fetch;
}

export interface FiringAlert {
  readonly service: string;
  readonly name: string;
  readonly objective: string;
  readonly since: string;
  readonly value: number | null;
}

export class AlertEngine {
  readonly #o: AlertEngineOptions;
  readonly #firing = new Map<string, FiringAlert>();
  #slos: { revision: number; slos: Slo[]; webhook: string | undefined } | undefined;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: AlertEngineOptions) {
    this.#o = options;
  }

  /** Picks the firing alerts up from the log: a new leader goes on where the last one was. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#firing.clear();
    for (const event of await this.#o.store.readEvents({ kinds: ALERT_EVENT_KINDS, limit: 100_000 })) {
      const data = (event.data ?? {}) as Partial<FiringAlert>;
      const key = `${event.service}/${data.name}`;
      if (event.kind === 'alert.fired') this.#firing.set(key, data as FiringAlert);
      else this.#firing.delete(key);
    }
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  firing(): FiringAlert[] {
    return [...this.#firing.values()];
  }

  /** One evaluation of every objective; the timer calls it once per slot. */
  async evaluate(): Promise<void> {
    const current = await this.#current();
    if (!current) return;
    const now = this.#o.clock.now().getTime();
    for (const slo of current.slos) {
      const complete = this.#o.slots(slo.service).filter((s) => s.startMs + this.#o.slotMs <= now);
      const reading = readSlo(slo, complete, this.#o.slotMs);
      const key = `${slo.service}/${slo.name}`;
      const transition = alertTransition(slo, this.#firing.has(key), reading);
      if (transition === 'fired') await this.#fire(slo, key, reading, current.webhook);
      else if (transition === 'resolved') await this.#resolve(slo, key, reading, current.webhook);
    }
    // An objective the new revision dropped cannot stay firing.
    const declared = new Set(current.slos.map((s) => `${s.service}/${s.name}`));
    for (const [key, alert] of this.#firing) {
      if (!declared.has(key))
        await this.#record('alert.resolved', alert, 'its objective was removed', undefined);
    }
  }

  async #fire(slo: Slo, key: string, reading: SloReading, webhook: string | undefined): Promise<void> {
    const alert: FiringAlert = {
      service: slo.service,
      name: slo.name,
      objective: describeSlo(slo),
      since: this.#o.clock.now().toISOString(),
      value: reading.value,
    };
    this.#firing.set(key, alert);
    await this.#record(
      'alert.fired',
      alert,
      `${alert.objective} (now ${formatValue(slo, reading.value)})`,
      webhook,
    );
    if (!slo.gate) return;
    const stopped = await this.#o.abortRollout(
      slo.service,
      `alert ${slo.service}/${slo.name} fired: ${alert.objective}`,
    );
    if (stopped) this.#o.logger.warn({ service: slo.service, alert: slo.name }, 'alert stopped a rollout');
  }

  async #resolve(slo: Slo, key: string, reading: SloReading, webhook: string | undefined): Promise<void> {
    const alert = this.#firing.get(key)!;
    await this.#record(
      'alert.resolved',
      alert,
      `back within objective (now ${formatValue(slo, reading.value)})`,
      webhook,
    );
  }

  async #record(
    kind: 'alert.fired' | 'alert.resolved',
    alert: FiringAlert,
    detail: string,
    webhook: string | undefined,
  ): Promise<void> {
    if (kind === 'alert.resolved') this.#firing.delete(`${alert.service}/${alert.name}`);
    const event = {
      kind,
      service: alert.service,
      actor: 'alerts',
      message: `${alert.service}/${alert.name} ${kind === 'alert.fired' ? 'fired' : 'resolved'}: ${detail}`,
      data: { ...alert },
      time: this.#o.clock.now().toISOString(),
    };
    await this.#o.store.appendEvents([event]);
    if (webhook) void this.#notify(webhook, event);
  }

  /** Best effort, bounded: a slow or failing receiver never holds evaluation up. */
  async #notify(url: string, event: Record<string, unknown>): Promise<void> {
    const send = this.#o.fetch ?? fetch;
    try {
      const response = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'baton-alerts' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) this.#o.logger.warn({ status: response.status }, 'alert webhook refused the alert');
    } catch (error) {
      // The URL may carry a credential: log where, not the whole of it.
      this.#o.logger.warn({ host: new URL(url).host, err: (error as Error).message }, 'alert webhook failed');
    }
  }

  async #current(): Promise<{ slos: Slo[]; webhook: string | undefined } | undefined> {
    const newest = await this.#o.engine.newest();
    if (newest === undefined) return undefined;
    if (this.#slos?.revision !== newest.number) {
      const { manifest } = newest;
      this.#slos = { revision: newest.number, slos: slosOf(manifest), webhook: manifest.alerts?.webhook };
    }
    return this.#slos;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#running = this.evaluate()
        .catch((error: unknown) => this.#o.logger.error({ err: error }, 'alert evaluation failed'))
        .finally(() => {
          this.#running = undefined;
          this.#schedule();
        });
    }, this.#o.slotMs);
  }
}

function formatValue(slo: Slo, value: number | null): string {
  if (value === null) return 'no traffic';
  return slo.kind === 'error-rate' ? `${+(value * 100).toFixed(2)}%` : `${Math.round(value)} ms`;
}
