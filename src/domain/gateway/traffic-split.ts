// Which version of a service a request goes to: a weighted split (a canary takes 5%, then
// 25%, …) or, when the client asks with `x-baton-version`, a pinned version or range.
import semver from 'semver';

export const VERSION_HEADER = 'x-baton-version';

/**
 * A split compiled against the versions that have endpoints right now. A version named in
 * the weights but without endpoints gives its share to the others (in proportion); weights
 * adding up to less than 100 leave the rest to the versions the split does not name.
 */
export class TrafficSplitter {
  readonly #versions: string[] = [];
  readonly #cumulative: number[] = [];
  readonly #total: number;

  constructor(weights: Readonly<Record<string, number>> | undefined, present: readonly string[]) {
    let total = 0;
    if (weights !== undefined) {
      let named = 0;
      for (const version of Object.keys(weights).sort()) {
        const weight = Math.max(0, weights[version] ?? 0);
        named += weight;
        if (weight > 0 && present.includes(version)) total = this.#add(version, weight, total);
      }
      const unnamed = present.filter((v) => !(v in weights)).sort();
      const rest = Math.max(0, 100 - named);
      if (rest > 0) for (const version of unnamed) total = this.#add(version, rest / unnamed.length, total);
    }
    this.#total = total;
  }

  /** True when there is nothing to choose: send to any endpoint. */
  get even(): boolean {
    return this.#total === 0 || this.#versions.length < 2;
  }

  /** The version for a uniform draw in [0, 1); undefined means any endpoint. */
  pick(draw: number): string | undefined {
    if (this.#total === 0) return undefined;
    const x = draw * this.#total;
    const cumulative = this.#cumulative;
    for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return this.#versions[i];
    return this.#versions[this.#versions.length - 1];
  }

  #add(version: string, weight: number, total: number): number {
    this.#versions.push(version);
    this.#cumulative.push(total + weight);
    return total + weight;
  }
}

/**
 * The versions among `present` that a pin asks for: an exact version (`2.1.0`) or a semver
 * range (`^2.1.0`, `>=2 <3`). Undefined when the pin is neither.
 */
export function pinnedVersions(pin: string, present: readonly string[]): string[] | undefined {
  const trimmed = pin.trim();
  if (trimmed === '' || trimmed.length > 256) return undefined;
  const exact = semver.valid(trimmed);
  if (exact !== null) return present.filter((v) => semver.valid(v) !== null && semver.eq(v, exact));
  if (semver.validRange(trimmed) === null) return undefined;
  return present.filter((v) => semver.satisfies(v, trimmed, { includePrerelease: true }));
}

/**
 * The versions among `present` within a consumer's dependsOn range, with dependsOn's
 * meaning: a prerelease only matches a range that names one (as the manifest check has it).
 */
export function versionsInRange(range: string, present: readonly string[]): string[] {
  if (semver.validRange(range) === null) return [];
  return present.filter((v) => semver.valid(v) !== null && semver.satisfies(v, range));
}
