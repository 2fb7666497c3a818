// Criticality-aware load shedding. Each tier may use only a share of the gateway's limits
// (requests in flight, queueing delay), so as load rises the least critical traffic is
// refused first and critical traffic keeps the last of the capacity: an overloaded
// gateway serves checkout rather than recommendations.
import type { Tier } from '../manifest/schema.ts';
import { TIERS } from '../manifest/schema.ts';
import type { GatewaySettingsResolved } from './snapshot.ts';

/** The share of each limit a tier may use before its requests are shed. */
export const TIER_SHARE: Readonly<Record<Tier, number>> = { critical: 1, high: 0.9, medium: 0.8, low: 0.7 };

export class LoadShedder {
  readonly #maxInFlight = new Map<Tier, number>();
  readonly #maxLatency = new Map<Tier, number>();

  constructor(settings: GatewaySettingsResolved['shedding']) {
    for (const tier of TIERS) {
      this.#maxInFlight.set(tier, Math.max(1, Math.floor(settings.maxInFlight * TIER_SHARE[tier])));
      this.#maxLatency.set(tier, settings.maxLatencyMs * TIER_SHARE[tier]);
    }
  }

  /**
   * Whether a new request to a service of `tier` is shed, given the requests already in
   * flight in this gateway and its current queueing delay in milliseconds.
   */
  shed(tier: Tier, inFlight: number, latencyMs: number): boolean {
    return inFlight >= this.#maxInFlight.get(tier)! || latencyMs >= this.#maxLatency.get(tier)!;
  }
}

/** Weight of each new sample in the queueing-delay estimate. */
const DELAY_SMOOTHING = 0.3;

/**
 * The next queueing-delay estimate from a new sample (an exponentially weighted average):
 * one stall — the process descheduled for a moment — moves it only part of the way, so it
 * takes sustained delay, real overload, to reach a shedding threshold.
 */
export function smoothDelay(previous: number, sample: number): number {
  return previous + DELAY_SMOOTHING * (sample - previous);
}
