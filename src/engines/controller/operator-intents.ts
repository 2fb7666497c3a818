// What operators asked for beyond the manifest — `baton scale` and `baton restart` — kept
// as events in the log (with who asked, the audit trail), replayed on start, the way traffic
// splits are. A scale holds until a revision changes the service's `instances`; a restart
// is a generation that rolls every instance started before it.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Overrides } from '../../domain/reconcile/desired-service.ts';
import { sameJson } from '../../domain/reconcile/dependency-order.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { Clock } from '../../ports/clock.ts';
import type { StoredEvent, Store } from '../../ports/store.ts';

export const SCALE_KIND = 'operator.scale';
export const RESTART_KIND = 'operator.restart';
/** Events read per page while replaying. */
const PAGE = 1000;

interface Intents {
  scale?: { readonly replicas: number; readonly revision: number } | undefined;
  /** When each rolling restart was asked for (epoch ms), oldest first: its index + 1 is the generation. */
  restarts: number[];
  overrides: Overrides | undefined;
}

export class OperatorIntents {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #byService = new Map<string, Intents>();
  /** Read up to here; and the intents recorded here, already replayed when written. */
  #readTo = 0;
  readonly #recorded = new Set<number>();

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  /**
   * Replays every scale and restart in the log. A scale recorded at a revision whose
   * `instances` for the service differ from the current revision's was overtaken by a
   * revision, and is dropped.
   */
  async load(current: Revision | undefined): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await this.#store.readEvents({ kinds: [SCALE_KIND, RESTART_KIND], after, limit: PAGE });
      for (const event of page) this.#replay(event);
      if (page.length > 0) this.#readTo = page.at(-1)!.seq;
      if (page.length < PAGE) break;
      after = page.at(-1)!.seq;
    }
    const manifests = new Map<number, Manifest | undefined>();
    for (const [service, intents] of this.#byService) {
      const scale = intents.scale;
      if (scale === undefined || current === undefined) continue;
      if (!manifests.has(scale.revision))
        manifests.set(scale.revision, (await this.#store.getRevision(scale.revision))?.manifest);
      const then = serviceOf(manifests.get(scale.revision), service)?.instances;
      if (!sameJson(then, serviceOf(current.manifest, service)?.instances)) intents.scale = undefined;
      this.#derive(intents);
    }
  }

  /**
   * Replays the intents recorded since the last read — by another replica's API, which
   * accepts scales and restarts while this one leads. Returns the services they concern.
   */
  async catchUp(): Promise<string[]> {
    const events = await this.#store.readEvents({ kinds: [SCALE_KIND, RESTART_KIND], after: this.#readTo });
    const services: string[] = [];
    for (const event of events) {
      this.#readTo = Math.max(this.#readTo, event.seq);
      if (this.#recorded.delete(event.seq)) continue;
      this.#replay(event);
      if (event.service !== undefined) services.push(event.service);
    }
    return services;
  }

  overrides(service: string): Overrides | undefined {
    return this.#byService.get(service)?.overrides;
  }

  /** The restart generation a service had at a time: what an instance started then runs. */
  generationAt(service: string, atMs: number): number {
    const restarts = this.#byService.get(service)?.restarts ?? [];
    let generation = 0;
    while (generation < restarts.length && restarts[generation]! <= atMs) generation++;
    return generation;
  }

  async scale(service: string, replicas: number, actor: string, revision: number | undefined): Promise<void> {
    const [event] = await this.#store.appendEvents([
      {
        kind: SCALE_KIND,
        service,
        revision,
        actor,
        message: `${actor} scaled ${service} to ${replicas} instance${replicas === 1 ? '' : 's'}`,
        data: { replicas },
        time: this.#clock.now().toISOString(),
      },
    ]);
    this.#recorded.add(event!.seq);
    this.#replay(event!);
  }

  async restart(service: string, actor: string, revision: number | undefined): Promise<void> {
    const generation = (this.#byService.get(service)?.restarts.length ?? 0) + 1;
    const [event] = await this.#store.appendEvents([
      {
        kind: RESTART_KIND,
        service,
        revision,
        actor,
        message: `${actor} asked for a rolling restart of ${service}`,
        data: { generation },
        time: this.#clock.now().toISOString(),
      },
    ]);
    this.#recorded.add(event!.seq);
    this.#replay(event!);
  }

  /** A new revision that changes a service's `instances` overrides its scale. Returns those it reset. */
  revisionApplied(parent: Manifest | undefined, latest: Manifest, moved: readonly string[]): string[] {
    const reset: string[] = [];
    for (const service of moved) {
      const intents = this.#byService.get(service);
      if (intents?.scale === undefined) continue;
      if (sameJson(serviceOf(parent, service)?.instances, serviceOf(latest, service)?.instances)) continue;
      intents.scale = undefined;
      this.#derive(intents);
      reset.push(service);
    }
    return reset;
  }

  #replay(event: StoredEvent): void {
    const service = event.service;
    if (service === undefined) return;
    let intents = this.#byService.get(service);
    if (intents === undefined)
      this.#byService.set(service, (intents = { restarts: [], overrides: undefined }));
    if (event.kind === SCALE_KIND && typeof event.data?.['replicas'] === 'number')
      intents.scale = { replicas: event.data['replicas'], revision: event.revision ?? 0 };
    else if (event.kind === RESTART_KIND) intents.restarts.push(Date.parse(event.time));
    this.#derive(intents);
  }

  /** A new object whenever intents change: the desired-state cache compares by identity. */
  #derive(intents: Intents): void {
    intents.overrides =
      intents.scale === undefined && intents.restarts.length === 0
        ? undefined
        : { replicas: intents.scale?.replicas, restartGeneration: intents.restarts.length || undefined };
  }
}
