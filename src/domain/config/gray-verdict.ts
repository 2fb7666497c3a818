// A gray config release, watched like a canary: the instances that run it are held to their
// services' gating objectives (`slos` with `gate: true`, the ones that stop a version's
// rollout), over their own figures only, from the moment the release was made. One objective
// missed for its `for` rolls the release back; a release that stayed within every objective
// for its watch is promoted (with `autoPromote`) or waits for a person.
//
// Pure: the caller hands in the objectives, the gray instances' figures and the time.
import { describeSlo, readSlo, type Slo, type SloSlot } from '../alerts/slo.ts';

export interface GrayWatchFacts {
  /** Gating objectives of the services that have instances on the gray release. */
  readonly gates: readonly Slo[];
  /** Per service, the figures of its gray instances only: complete slots, oldest first. */
  readonly slots: Readonly<Record<string, readonly SloSlot[]>>;
  /** Per service, how many of its instances run the gray release (for the reason). */
  readonly instances: Readonly<Record<string, number>>;
  readonly slotMs: number;
  /** When the gray release was made: earlier slots are the previous release's. */
  readonly startedMs: number;
  readonly watchMs: number;
  readonly autoPromote: boolean;
  readonly nowMs: number;
}

export type GrayVerdict =
  | {
      readonly kind: 'breached';
      readonly service: string;
      readonly objective: string;
      readonly reason: string;
    }
  | { readonly kind: 'watching'; readonly recheckInMs: number }
  | { readonly kind: 'promote'; readonly reason: string }
  /** Healthy for its whole watch; promotion is a person's call. */
  | { readonly kind: 'healthy' };

export function grayVerdict(facts: GrayWatchFacts): GrayVerdict {
  for (const slo of facts.gates) {
    if (!slo.gate) continue;
    // A slot that began before the release mixes in the previous release's answers.
    const own = (facts.slots[slo.service] ?? []).filter((slot) => slot.startMs >= facts.startedMs);
    const reading = readSlo(slo, own, facts.slotMs);
    if (reading.value === null || reading.missedForMs < slo.forMs) continue;
    const count = facts.instances[slo.service] ?? 0;
    return {
      kind: 'breached',
      service: slo.service,
      objective: slo.name,
      reason:
        `${slo.service}/${slo.name}: ${describeSlo(slo)} on the ${count} instance(s) running it ` +
        `(now ${formatValue(slo, reading.value)})`,
    };
  }
  // Never promoted before a breach could have been seen: the longest `for`, plus the slot it
  // takes for the first complete one after the release.
  const longestFor = Math.max(0, ...facts.gates.filter((s) => s.gate).map((s) => s.forMs));
  const watchedUntil =
    facts.startedMs + Math.max(facts.watchMs, facts.gates.length > 0 ? longestFor + facts.slotMs : 0);
  if (facts.nowMs < watchedUntil) return { kind: 'watching', recheckInMs: watchedUntil - facts.nowMs };
  if (!facts.autoPromote) return { kind: 'healthy' };
  const watched = facts.gates.filter((s) => s.gate).length;
  return {
    kind: 'promote',
    reason:
      watched === 0
        ? `watched for ${Math.round((watchedUntil - facts.startedMs) / 1000)} s (no gating objective declared)`
        : `within ${watched} gating objective(s) for ${Math.round((watchedUntil - facts.startedMs) / 1000)} s`,
  };
}

function formatValue(slo: Slo, value: number): string {
  return slo.kind === 'error-rate' ? `${+(value * 100).toFixed(2)}%` : `${Math.round(value)} ms`;
}
