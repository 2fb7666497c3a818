// Everything the gateway keeps per service: its endpoints grouped by version, the balancer
// of each group, and the live state of the policies that protect the service as a whole
// (retry budget, bulkhead). Circuit breakers and outlier ejections are per route
// (route-runtime.ts). A service's runtime outlives snapshots: a new snapshot reconfigures
// it, so its counters and waiting requests survive an unrelated change.
import { createBalancer } from '../../domain/gateway/balancers.ts';
import type { Balancer, Random } from '../../domain/gateway/balancers.ts';
import { Bulkhead } from '../../domain/gateway/bulkhead.ts';
import type { CompiledFault } from '../../domain/gateway/fault-injection.ts';
import { RetryBudget } from '../../domain/gateway/retry-policy.ts';
import type {
  GatewayService,
  LoadBalancing,
  TrafficPolicy,
  TrafficSplit,
} from '../../domain/gateway/snapshot.ts';
import { TrafficSplitter, pinnedVersions, versionsInRange } from '../../domain/gateway/traffic-split.ts';
import type { Tier } from '../../domain/manifest/schema.ts';
import type { GatewayMetrics, ServiceMetrics } from './metrics.ts';
import type { Upstream } from './upstream.ts';

/** A request waiting in the bulkhead's queue. */
export interface Waiter {
  /** The slot is now this waiter's. */
  admit(): void;
}

/** Pins remembered per service: clients tend to send a handful of distinct values. */
const PIN_CACHE_SIZE = 64;

/** Endpoints a request may go to (a version's, a pin's, or all) and their balancer. */
export class EndpointGroup {
  readonly all: readonly Upstream[];
  readonly balancer: Balancer<Upstream>;

  constructor(all: readonly Upstream[], loadBalancing: LoadBalancing, random: Random) {
    this.all = all;
    this.balancer = createBalancer(
      loadBalancing,
      all,
      all.map((u) => u.instanceId),
      random,
    );
  }
}

export class ServiceRuntime {
  readonly name: string;
  tier: Tier;
  policy: TrafficPolicy;
  upstreams: readonly Upstream[] = [];
  any: EndpointGroup;
  splitter: TrafficSplitter = new TrafficSplitter(undefined, []);
  faults: readonly CompiledFault[] | undefined;
  readonly budget: RetryBudget;
  readonly bulkhead: Bulkhead<Waiter>;
  metrics: ServiceMetrics;
  /** Hash key of the request: a lower-case header name, or a cookie name. */
  hashHeader: string | undefined;
  hashCookie: string | undefined;
  readonly #byVersion = new Map<string, EndpointGroup>();
  readonly #pins = new Map<string, EndpointGroup | null>();
  readonly #ranges = new Map<string, Ranged | 'all' | null>();
  #split: Readonly<Record<string, number>> | undefined;
  readonly #random: Random;
  readonly #gatewayMetrics: GatewayMetrics;
  #shape = '';

  constructor(name: string, service: GatewayService, random: Random, metrics: GatewayMetrics) {
    this.name = name;
    this.tier = service.tier;
    this.policy = service.policy;
    this.#random = random;
    this.#gatewayMetrics = metrics;
    this.metrics = metrics.service(name, service.tier);
    this.budget = new RetryBudget(service.policy.retries.budgetPercent);
    this.bulkhead = new Bulkhead(service.policy.concurrency.limit, service.policy.concurrency.queue);
    this.any = new EndpointGroup([], service.policy.loadBalancing, random);
  }

  /** Applies a new snapshot of this service; `upstreams` are its endpoints, reused where kept. */
  update(service: GatewayService, upstreams: readonly Upstream[]): Waiter[] {
    if (service.tier !== this.tier) this.metrics = this.#gatewayMetrics.service(this.name, service.tier);
    this.tier = service.tier;
    this.policy = service.policy;
    this.upstreams = upstreams;
    const lb = service.policy.loadBalancing;
    this.hashHeader = lb.kind === 'hash' ? lb.header : undefined;
    this.hashCookie = lb.kind === 'hash' ? lb.cookie : undefined;
    this.budget.budgetPercent = service.policy.retries.budgetPercent;
    this.bulkhead.configure(service.policy.concurrency.limit, service.policy.concurrency.queue);

    // Most snapshots change one service or none: keep the groups (and the balancers'
    // positions and hash rings) of a service whose endpoints and balancing did not change.
    const shape = groupShape(upstreams, lb, service.split);
    if (shape === this.#shape) return this.bulkhead.admitWaiting();
    this.#shape = shape;

    this.any = new EndpointGroup(upstreams, lb, this.#random);
    this.#byVersion.clear();
    this.#pins.clear();
    this.#ranges.clear();
    this.#split = service.split?.weights;
    const versions = new Map<string, Upstream[]>();
    for (const u of upstreams) {
      const list = versions.get(u.version) ?? [];
      list.push(u);
      versions.set(u.version, list);
    }
    for (const [version, list] of versions)
      this.#byVersion.set(version, new EndpointGroup(list, lb, this.#random));
    this.splitter = new TrafficSplitter(service.split?.weights, [...versions.keys()]);
    // A raised limit frees slots for requests already waiting.
    return this.bulkhead.admitWaiting();
  }

  /**
   * The endpoints a request may go to: those of a pinned version (`pin`, from
   * x-baton-version), else of the version the split draws, else all. Null when the pin is
   * not a version or range; an empty group when nothing matches it.
   */
  group(pin: string | undefined, range?: string): EndpointGroup | null {
    if (range !== undefined) return this.#inRange(range, pin);
    if (pin !== undefined) return this.#pinned(pin);
    if (this.splitter.even) return this.any;
    const version = this.splitter.pick(this.#random());
    return (version !== undefined ? this.#byVersion.get(version) : undefined) ?? this.any;
  }

  /**
   * East-west: only the versions within the caller's dependsOn range (and the pin, if any).
   * The split still applies among them, so a canary within the range gets its share and one
   * outside it gets none of this caller's traffic.
   */
  #inRange(range: string, pin: string | undefined): EndpointGroup | null {
    const key = pin === undefined ? range : `${range}\u0000${pin}`;
    let ranged = this.#ranges.get(key);
    if (ranged === undefined) {
      const present = [...this.#byVersion.keys()];
      let versions = versionsInRange(range, present);
      let valid = true;
      if (pin !== undefined) {
        const pinned = pinnedVersions(pin, present);
        if (pinned === undefined) valid = false;
        else versions = versions.filter((v) => pinned.includes(v));
      }
      ranged = !valid
        ? null
        : pin === undefined && versions.length === present.length
          ? 'all'
          : {
              group: new EndpointGroup(
                this.upstreams.filter((u) => versions.includes(u.version)),
                this.policy.loadBalancing,
                this.#random,
              ),
              splitter:
                pin === undefined && this.#split !== undefined && versions.length > 1
                  ? new TrafficSplitter(this.#split, versions)
                  : undefined,
            };
      if (this.#ranges.size >= PIN_CACHE_SIZE) this.#ranges.clear();
      this.#ranges.set(key, ranged);
    }
    if (ranged === null) return null;
    // Every version is within the range: the service's own groups and split apply as they are.
    if (ranged === 'all') return this.group(undefined);
    const splitter = ranged.splitter;
    if (splitter !== undefined && !splitter.even) {
      const version = splitter.pick(this.#random());
      if (version !== undefined) return this.#byVersion.get(version) ?? ranged.group;
    }
    return ranged.group;
  }

  #pinned(pin: string): EndpointGroup | null {
    const cached = this.#pins.get(pin);
    if (cached !== undefined) return cached;
    const versions = pinnedVersions(pin, [...this.#byVersion.keys()]);
    let group: EndpointGroup | null = null;
    if (versions !== undefined) {
      const members = this.upstreams.filter((u) => versions.includes(u.version));
      group = new EndpointGroup(members, this.policy.loadBalancing, this.#random);
    }
    if (this.#pins.size >= PIN_CACHE_SIZE) this.#pins.clear();
    this.#pins.set(pin, group);
    return group;
  }
}

interface Ranged {
  readonly group: EndpointGroup;
  readonly splitter: TrafficSplitter | undefined;
}

function groupShape(
  upstreams: readonly Upstream[],
  lb: LoadBalancing,
  split: TrafficSplit | undefined,
): string {
  return JSON.stringify([upstreams.map((u) => u.key), lb, split?.weights ?? null]);
}
