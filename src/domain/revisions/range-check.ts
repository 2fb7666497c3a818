// Whether a consumer's `dependsOn` range holds on a provider. Planners ask the same few
// (range, version) questions thousands of times, so each checker memoises its answers.
import semver from 'semver';
import type { ServiceSpec } from '../manifest/model.ts';

export interface RangeChecker {
  /** Does `version` satisfy `range`? Prereleases only match ranges that name them. */
  satisfies(version: string, range: string): boolean;
  /**
   * Does `consumer`'s range on `provider` hold? True when the consumer is absent or does not
   * depend on the provider, and for an optional dependency whose provider is absent.
   */
  holds(consumer: ServiceSpec | undefined, providerName: string, provider: ServiceSpec | undefined): boolean;
}

export function createRangeChecker(): RangeChecker {
  // range → version → answer; nested so that a lookup allocates nothing.
  const answers = new Map<
    string,
    { readonly range: semver.Range; readonly byVersion: Map<string, boolean> }
  >();
  const satisfies = (version: string, range: string): boolean => {
    let entry = answers.get(range);
    if (!entry) {
      entry = { range: new semver.Range(range), byVersion: new Map() };
      answers.set(range, entry);
    }
    let answer = entry.byVersion.get(version);
    if (answer === undefined) {
      answer = entry.range.test(version);
      entry.byVersion.set(version, answer);
    }
    return answer;
  };
  return {
    satisfies,
    holds(consumer, providerName, provider) {
      // hasOwn: a service may well be called `constructor`.
      if (!consumer || !Object.hasOwn(consumer.dependsOn, providerName)) return true;
      const dep = consumer.dependsOn[providerName]!;
      if (!provider) return dep.optional;
      return satisfies(provider.version, dep.range);
    },
  };
}
