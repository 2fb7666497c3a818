// The whole validation of an architecture: syntax, schema, then the dependency graph.
// Every problem, whichever stage found it, comes back located in the source text.
import { LineCounter, parseDocument } from 'yaml';
import { checkGraph, unknownTargetsOfRaw } from './graph/check-graph.ts';
import { buildGraph, type DependencyGraph } from './graph/dependency-graph.ts';
import type { Manifest } from './manifest/model.ts';
import { parseManifest, type Locator } from './manifest/parse.ts';
import { createSourceLocator } from './manifest/source-locator.ts';
import { formatPath, isError, type Problem } from './problems.ts';
import { credentialWarnings } from './secrets/credential-warnings.ts';
import { unexpandedEnvFiles } from './manifest/env-files.ts';
import { secretReferenceProblems } from './secrets/secret-references.ts';

export interface ValidArchitecture {
  readonly manifest: Manifest;
  readonly graph: DependencyGraph;
  /** Places problems found later (by the runtime's admission) in the source text. */
  readonly locate: Locator;
}

export type ArchitectureValidation =
  | { readonly ok: true; readonly value: ValidArchitecture; readonly warnings: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

export function validateArchitecture(text: string, options: { file?: string } = {}): ArchitectureValidation {
  const parsed = parseManifest(text, options);
  if (!parsed.ok) return { ok: false, problems: withUnknownTargets(parsed.problems, text, options) };
  const { manifest, locate } = parsed.value;
  const graph = buildGraph(manifest);
  const checks = [
    ...checkGraph(manifest, graph),
    ...secretReferenceProblems(manifest),
    ...unexpandedEnvFiles(manifest),
    ...credentialWarnings(manifest),
  ];
  const located = checks.map((problem): Problem => {
    const at = locate(problem.path);
    return { ...problem, file: options.file, line: at?.line, column: at?.column };
  });
  const problems = [...parsed.warnings, ...located];
  const errors = problems.filter(isError);
  if (errors.length > 0) return { ok: false, problems: sortByPosition(problems) };
  return { ok: true, value: { manifest, graph, locate }, warnings: sortByPosition(problems) };
}

/** Problems found after validation (they carry a path), located and merged with its warnings. */
export function withLaterProblems(
  validation: Extract<ArchitectureValidation, { ok: true }>,
  later: readonly Problem[],
  options: { file?: string | undefined } = {},
): ArchitectureValidation {
  if (later.length === 0) return validation;
  const located = later.map((problem): Problem => {
    const at = validation.value.locate(problem.path);
    return { ...problem, file: options.file, line: at?.line, column: at?.column };
  });
  const problems = sortByPosition([...validation.warnings, ...located]);
  if (problems.some(isError)) return { ok: false, problems };
  return { ...validation, warnings: problems };
}

/** Problems that stop everything: past them there is no mapping of services to look at. */
const UNREADABLE = new Set([
  'too-many-services',
  'too-many-dependencies',
  'manifest-too-large',
  'yaml-syntax',
  'yaml-alias-limit',
  'empty-manifest',
  'not-a-mapping',
]);

/**
 * Schema problems do not hide unknown dependency targets: everything at once, as promised.
 * The text parsed cleanly as YAML (else it stops at the syntax), so reading it again is safe.
 */
function withUnknownTargets(
  problems: readonly Problem[],
  text: string,
  options: { file?: string },
): Problem[] {
  if (problems.some((p) => UNREADABLE.has(p.code))) return [...problems];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: false });
  const { locate } = createSourceLocator(doc, lines);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return [...problems]; // aliases past the limit: already reported as such
  }
  const reported = new Set(problems.map((p) => formatPath(p.path)));
  const targets = unknownTargetsOfRaw(data)
    .filter((p) => !reported.has(formatPath(p.path)))
    .map((problem): Problem => {
      const at = locate(problem.path);
      return { ...problem, file: options.file, line: at?.line, column: at?.column };
    });
  return sortByPosition([...problems, ...targets]);
}

function sortByPosition(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
