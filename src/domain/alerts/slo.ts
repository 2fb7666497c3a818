// Service-level objectives, evaluated over the RED figures' 10-second slots. An objective
// is missed in a slot that had traffic and broke it; the alert fires once every slot of the
// last `for` was missed (as Prometheus' `for:`: continuously, not on average), and resolves
// at the first slot with traffic that meets it. A slot without traffic says nothing either
// way, so an idle service neither fires nor resolves.
import { parseDuration } from '../health/duration.ts';
import type { Manifest } from '../manifest/model.ts';

export interface Slo {
  readonly service: string;
  readonly name: string;
  readonly kind: 'error-rate' | 'p99';
  /** A fraction (0.01) for error rates, milliseconds for p99. */
  readonly threshold: number;
  readonly forMs: number;
  readonly gate: boolean;
}

/** One complete slot of a service's figures. */
export interface SloSlot {
  readonly startMs: number;
  readonly count: number;
  readonly errors: number;
  readonly p99Ms: number | null;
}

export interface SloReading {
  /** The newest slot with traffic: its value, or null when no slot had any. */
  readonly value: number | null;
  /** How long, back from the newest slot, every slot with traffic missed the objective. */
  readonly missedForMs: number;
  /** The newest slot with traffic met the objective. */
  readonly met: boolean;
}

export function slosOf(manifest: Manifest): Slo[] {
  const slos: Slo[] = [];
  for (const [service, spec] of Object.entries(manifest.services)) {
    for (const slo of spec.slos ?? []) {
      const errorRate = slo.errorRate !== undefined;
      slos.push({
        service,
        name: slo.name,
        kind: errorRate ? 'error-rate' : 'p99',
        threshold: errorRate ? slo.errorRate! / 100 : parseDuration(slo.p99!),
        forMs: parseDuration(slo.for),
        gate: slo.gate,
      });
    }
  }
  return slos;
}

export function sloValue(slo: Slo, slot: SloSlot): number | null {
  if (slot.count === 0) return null;
  return slo.kind === 'error-rate' ? slot.errors / slot.count : slot.p99Ms;
}

/** `slots` ascending by time, complete ones only (the slot being filled would flap). */
export function readSlo(slo: Slo, slots: readonly SloSlot[], slotMs: number): SloReading {
  let value: number | null = null;
  let newest = true;
  let met = true;
  let missedSlots = 0;
  for (let i = slots.length - 1; i >= 0; i--) {
    const v = sloValue(slo, slots[i]!);
    if (v === null) continue;
    const missed = v > slo.threshold;
    if (newest) {
      value = v;
      met = !missed;
      newest = false;
    }
    if (!missed) break;
    missedSlots++;
  }
  return { value, missedForMs: missedSlots * slotMs, met };
}

export type AlertTransition = 'fired' | 'resolved' | undefined;

/** What a reading does to an alert that is (or is not) firing. */
export function alertTransition(slo: Slo, firing: boolean, reading: SloReading): AlertTransition {
  if (!firing && reading.value !== null && reading.missedForMs >= slo.forMs) return 'fired';
  if (firing && reading.value !== null && reading.met) return 'resolved';
  return undefined;
}

export function describeSlo(slo: Slo): string {
  return slo.kind === 'error-rate'
    ? `error rate over ${+(slo.threshold * 100).toFixed(3)}% for ${slo.forMs / 1000} s`
    : `p99 over ${slo.threshold} ms for ${slo.forMs / 1000} s`;
}
