// Suggestions that turn "unknown key" or "invalid value" into something the author can
// act on: `depends_on` → `dependsOn`, `critcal` → `critical`, `Orders_API` → `orders-api`.
import { LIMITS, NAME_PATTERN } from './schema.ts';

// Words people bring from other tools (docker-compose, Kubernetes) that no edit distance
// would connect to Baton's spelling. Keys are folded (see `fold`); a synonym is offered
// only where the schema allows it.
const SYNONYMS: Readonly<Record<string, string>> = {
  dependencies: 'dependsOn',
  depends: 'dependsOn',
  requires: 'dependsOn',
  replicas: 'instances',
  scale: 'instances',
  command: 'run',
  cmd: 'run',
  entrypoint: 'run',
  environment: 'env',
  healthcheck: 'health',
  criticality: 'tier',
  priority: 'tier',
  team: 'owner',
  container: 'image',
};

/** The candidate the author most likely meant by `input`, or undefined when none is close. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const folded = fold(input);
  if (folded === '') return undefined;
  const synonym = SYNONYMS[folded];
  if (synonym !== undefined && candidates.includes(synonym)) return synonym;

  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const other = fold(candidate);
    // The same word in another case or style (snake_case, kebab-case) is the answer.
    if (other === folded) return candidate;
    const distance = editDistance(folded, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(folded.length, fold(best).length) / 3));
  if (bestDistance <= allowed) return best;
  // An abbreviation (`crit`, `desc`) is a clear intent even when far in edits.
  const prefixed = folded.length >= 3 ? candidates.filter((c) => fold(c).startsWith(folded)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * A valid service name close to `raw` (`Orders_API` → `orders-api`), or undefined when
 * `raw` is already valid or no honest rewrite exists (e.g. it starts with a digit).
 */
export function suggestName(raw: string): string | undefined {
  const candidate = raw
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, LIMITS.nameLength)
    .replace(/-+$/, '');
  return candidate !== raw && NAME_PATTERN.test(candidate) ? candidate : undefined;
}

function fold(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, previous2[j - 2]! + 1);
      }
      current.push(best);
    }
    previous2 = previous;
    previous = current;
  }
  return previous[b.length]!;
}
