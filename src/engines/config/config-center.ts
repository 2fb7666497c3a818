// The config center: releases of config sets, numbered apart from revisions, checked against
// every consuming service's schema, optionally gray (a share of instances or one version
// first, then promoted or abandoned). It answers, for any instance, which release it runs and
// the values it gets, and tells subscribers the moment that may have changed: in this process
// at once, in other replicas when the release's event reaches them through the store.
import { BatonError } from '../../domain/errors.ts';
import {
  changedKeys,
  diffConfigSets,
  EMPTY_CONFIG_SET,
  effectiveConfig,
  type ConfigChange,
  type ConfigSet,
} from '../../domain/config/config-set.ts';
import type { ConfigValues } from '../../domain/config/config-schema.ts';
import { describeGray, inGray, type GraySelector } from '../../domain/config/gray.ts';
import { checkRelease, restartKeys } from '../../domain/config/release-check.ts';
import { secretsGivenTo, servicesGivenSecret } from '../../domain/config/secret-uses.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConfigRelease, NewConfigRelease, NewEvent, Store } from '../../ports/store.ts';

export const CONFIG_EVENT_KINDS = ['config.released', 'config.promoted', 'config.abandoned'];

/** How far back the current stable and gray releases are looked for. */
const STATE_WINDOW = 50;

export interface ConfigState {
  readonly stable: ConfigRelease | undefined;
  readonly gray: ConfigRelease | undefined;
}

export interface InstanceConfig {
  /** 0 before any release. */
  readonly release: number;
  readonly values: ConfigValues;
}

export interface ConfigInstance {
  readonly id: string;
  readonly service: string;
  readonly version: string;
}

export interface ConfigCenterOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** The manifest instances run now: whose schemas a release must satisfy. */
  readonly current: () => Promise<Manifest | undefined>;
  /** `restart: true` keys that change reach instances by a rolling restart of their service. */
  readonly restart?: ((service: string, actor: string) => Promise<void>) | undefined;
}

export interface EndGrayOptions {
  /** The gray release meant; refused if another one (or none) is gray now. */
  readonly release?: number | undefined;
  /** Why, for the event: the gate that rolled it back, the watch it passed. */
  readonly reason?: string | undefined;
}

export interface ReleaseOutcome {
  readonly release: ConfigRelease;
  readonly changes: readonly ConfigChange[];
  readonly restarted: readonly string[];
}

export class ConfigCenter {
  readonly #o: ConfigCenterOptions;
  readonly #listeners = new Set<() => void>();
  #state: ConfigState = { stable: undefined, gray: undefined };
  #cursor = 0;
  #unsubscribe: (() => void) | undefined;

  constructor(options: ConfigCenterOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#cursor = await this.#o.store.lastEventSeq();
    await this.#refresh();
    // Releases made through another replica arrive as events.
    this.#unsubscribe = this.#o.store.onEvents(() => void this.#followEvents().catch(() => {}));
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  get state(): ConfigState {
    return this.#state;
  }

  /** Called whenever the stable or gray release may have changed. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Which release an instance runs (0: none yet), and whether it is the gray one: for the registry's answers. */
  releaseOf(instance: ConfigInstance): { readonly release: number; readonly gray: boolean } {
    const { stable, gray } = this.#state;
    if (gray?.gray && inGray(gray.gray, instance)) return { release: gray.number, gray: true };
    return { release: stable?.number ?? 0, gray: false };
  }

  /** The services the releases in force (stable and gray) hand a secret to, of these. */
  servicesGivenSecret(secret: string, services: readonly string[]): string[] {
    const given = new Set<string>();
    for (const release of [this.#state.stable, this.#state.gray])
      if (release)
        for (const service of servicesGivenSecret(release.content, services, secret)) given.add(service);
    return [...given].sort();
  }

  /** The secrets the releases in force refer to for a service. */
  secretsGivenTo(service: string): string[] {
    const names = new Set<string>();
    for (const release of [this.#state.stable, this.#state.gray])
      if (release) for (const name of secretsGivenTo(release.content, service)) names.add(name);
    return [...names].sort();
  }

  configFor(instance: ConfigInstance): InstanceConfig {
    const { stable, gray } = this.#state;
    const release = gray?.gray && inGray(gray.gray, instance) ? gray : stable;
    if (release === undefined) return { release: 0, values: {} };
    return {
      release: release.number,
      values: effectiveConfig(release.content, {
        service: instance.service,
        version: instance.version,
        instance: instance.id,
      }),
    };
  }

  async release(
    content: ConfigSet,
    options: {
      author: string;
      message: string;
      source?: NewConfigRelease['source'];
      gray?: GraySelector | undefined;
    },
  ): Promise<ReleaseOutcome> {
    await this.#refresh();
    if (this.#state.gray) {
      throw new BatonError(
        'config-gray-pending',
        `config release ${this.#state.gray.number} is gray: promote or abort it first`,
        {
          hint: '`baton config promote` or `baton config abort`',
        },
      );
    }
    const manifest = await this.#o.current();
    if (manifest) refuseViolations(content, manifest);
    const base = this.#state.stable?.content ?? EMPTY_CONFIG_SET;
    const changes = diffConfigSets(base, content);
    const time = this.#o.clock.now().toISOString();
    const latest = (await this.#o.store.listConfigReleases({ limit: 1 }))[0];
    const number = (latest?.number ?? 0) + 1;
    const release = await this.#o.store.appendConfigRelease(
      {
        content,
        status: options.gray ? 'gray' : 'stable',
        ...(options.gray ? { gray: options.gray } : {}),
        author: options.author,
        message: options.message,
        source: options.source ?? { kind: 'apply' },
        createdAt: time,
      },
      {
        expectedParent: latest?.number ?? null,
        events: [
          this.#event('config.released', options.author, time, {
            message: `config release ${number}${options.gray ? ` (gray: ${describeGray(options.gray)})` : ''}: ${changes.length} change(s)`,
            data: { release: number, keys: changes.map((c) => c.key), gray: options.gray ?? null },
          }),
        ],
      },
    );
    // Subscribers hear of it now, without reading the releases back: the push's hot path.
    this.#adopt(
      options.gray ? { stable: this.#state.stable, gray: release } : { stable: release, gray: undefined },
    );
    const restarted = manifest ? await this.#restartFor(base, content, manifest, options.author) : [];
    return { release, changes, restarted };
  }

  /** The stable set with some keys of one scope changed (`value: null` removes a key). */
  async set(
    changes: readonly { scope: string; key: string; value: ConfigValues[string] | null }[],
    options: { author: string; message: string },
  ): Promise<ReleaseOutcome> {
    await this.#refresh();
    const content = structuredClone(this.#state.stable?.content ?? EMPTY_CONFIG_SET) as ConfigSet;
    for (const change of changes) {
      const values = scopeValues(content, change.scope);
      if (change.value === null) delete values[change.key];
      else values[change.key] = change.value;
    }
    return this.release(content, { ...options, source: { kind: 'set' } });
  }

  async rollback(
    to: number,
    options: { author: string; message?: string | undefined },
  ): Promise<ReleaseOutcome> {
    const earlier = await this.get(to);
    return this.release(earlier.content, {
      author: options.author,
      message: options.message ?? `rollback to config release ${to}`,
      source: { kind: 'rollback', from: to },
    });
  }

  /**
   * `release`: only if that is still the gray one (the gray watch decides on a release it
   * read earlier; a person may have ended it, and released another, meanwhile).
   */
  async promote(author: string, options: EndGrayOptions = {}): Promise<ConfigRelease> {
    return this.#endGray('stable', author, options);
  }

  async abort(author: string, options: EndGrayOptions = {}): Promise<ConfigRelease> {
    return this.#endGray('abandoned', author, options);
  }

  async get(number: number): Promise<ConfigRelease> {
    const release = await this.#o.store.getConfigRelease(number);
    if (!release)
      throw new BatonError('config-release-not-found', `config release ${number} does not exist`, {
        hint: 'list them with `baton config history`',
      });
    return release;
  }

  history(limit = 50): Promise<ConfigRelease[]> {
    return this.#o.store.listConfigReleases({ limit });
  }

  async diff(from: number, to: number): Promise<{ from: number; to: number; changes: ConfigChange[] }> {
    const [a, b] = await Promise.all([from === 0 ? undefined : this.get(from), this.get(to)]);
    return { from, to, changes: diffConfigSets(a?.content ?? EMPTY_CONFIG_SET, b.content) };
  }

  async #endGray(
    status: 'stable' | 'abandoned',
    author: string,
    options: EndGrayOptions,
  ): Promise<ConfigRelease> {
    await this.#refresh();
    const gray = this.#state.gray;
    if (!gray || (options.release !== undefined && gray.number !== options.release))
      throw new BatonError(
        'no-gray-release',
        options.release === undefined
          ? 'no gray config release is in progress'
          : `config release ${options.release} is no longer gray`,
      );
    const time = this.#o.clock.now().toISOString();
    const kind = status === 'stable' ? 'config.promoted' : 'config.abandoned';
    const what =
      status === 'stable'
        ? 'promoted to every instance'
        : 'rolled back: every instance returns to the stable release';
    await this.#o.store.setConfigReleaseStatus(gray.number, status, [
      this.#event(kind, author, time, {
        message: `config release ${gray.number} ${what}${options.reason ? ` (${options.reason})` : ''}`,
        data: { release: gray.number, ...(options.reason ? { reason: options.reason } : {}) },
      }),
    ]);
    await this.#refresh();
    if (status === 'stable') {
      const manifest = await this.#o.current();
      const base = this.#previousStable(gray.number)?.content ?? EMPTY_CONFIG_SET;
      if (manifest) await this.#restartFor(base, gray.content, manifest, author);
    }
    return { ...gray, status };
  }

  #previousStable(before: number): ConfigRelease | undefined {
    const stable = this.#state.stable;
    return stable && stable.number < before ? stable : undefined;
  }

  async #restartFor(
    before: ConfigSet,
    after: ConfigSet,
    manifest: Manifest,
    actor: string,
  ): Promise<string[]> {
    if (!this.#o.restart) return [];
    const restarted: string[] = [];
    for (const [service, spec] of Object.entries(manifest.services)) {
      const marked = restartKeys(manifest, service);
      if (marked.size === 0) continue;
      const changed = changedKeys(before, after, { service, version: spec.version });
      if (!changed.some((key) => marked.has(key))) continue;
      await this.#o.restart(service, actor);
      restarted.push(service);
    }
    return restarted;
  }

  async #followEvents(): Promise<void> {
    const events = await this.#o.store.readEvents({ after: this.#cursor, kinds: CONFIG_EVENT_KINDS });
    const last = await this.#o.store.lastEventSeq();
    this.#cursor = Math.max(this.#cursor, last, ...events.map((e) => e.seq));
    if (events.length > 0) await this.#refresh();
  }

  async #refresh(): Promise<void> {
    const recent = await this.#o.store.listConfigReleases({ limit: STATE_WINDOW });
    const stable = recent.find((r) => r.status === 'stable');
    const gray = recent.find(
      (r) => r.status === 'gray' && (stable === undefined || r.number > stable.number),
    );
    this.#adopt({ stable, gray });
  }

  #adopt(state: ConfigState): void {
    const changed =
      state.stable?.number !== this.#state.stable?.number || state.gray?.number !== this.#state.gray?.number;
    this.#state = state;
    if (changed) for (const listener of this.#listeners) listener();
  }

  #event(
    kind: string,
    actor: string,
    time: string,
    fields: { message: string; data: Record<string, unknown> },
  ): NewEvent {
    return { kind, actor, time, message: fields.message, data: fields.data };
  }
}

function refuseViolations(content: ConfigSet, manifest: Manifest): void {
  const violations = checkRelease(content, manifest);
  if (violations.length === 0) return;
  const first = violations[0]!;
  throw new BatonError(
    'config-invalid',
    `the release breaks the config schema of ${[...new Set(violations.map((v) => v.service))].join(', ')}: ` +
      violations.map((v) => `${v.key} ${v.message} (for ${v.target})`).join('; '),
    {
      hint: `fix ${first.key} for ${first.target}, or change services.${first.service}.config.schema in the manifest`,
      details: { violations },
    },
  );
}

function scopeValues(content: ConfigSet, scope: string): Record<string, ConfigValues[string]> {
  const mutable = content as unknown as {
    global: Record<string, ConfigValues[string]>;
    services: Record<string, Record<string, ConfigValues[string]>>;
    versions: Record<string, Record<string, ConfigValues[string]>>;
  };
  if (scope === 'global') return mutable.global;
  const holder = scope.includes('@') ? mutable.versions : mutable.services;
  return (holder[scope] ??= {});
}
