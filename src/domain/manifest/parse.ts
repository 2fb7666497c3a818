// `baton.yaml` text → a normalised Manifest, or every problem in it at once, each with
// the line, column, field path and, where one helps, a hint.
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
import type { FieldPath, Problem, Result } from '../problems.ts';
import { normalizeManifest } from './model.ts';
import type { Manifest } from './model.ts';
import { LIMITS, ManifestSchema } from './schema.ts';
import type { ManifestProblemCode } from './problem-codes.ts';
import { problemsFromIssues } from './schema-problems.ts';
import { createSourceLocator, isMergeKey, keyText } from './source-locator.ts';
import type { Locator, Position, SourceLocator } from './source-locator.ts';

export type { Locator, Position } from './source-locator.ts';

export interface ParsedSource {
  readonly manifest: Manifest;
  /** Places problems found later (graph, compatibility) in the text this manifest came from. */
  readonly locate: Locator;
}

// Aliases are resolved by reference, so expansion costs nothing until something walks
// the value, and validation does. Both limits bound that walk: the first is yaml's own
// guard (room for one `<<: *defaults` per service), the second caps the values an
// expanded manifest may hold; a 1 MiB manifest without aliases holds far fewer.
const MAX_ALIAS_COUNT = LIMITS.services;
const MAX_EXPANDED_VALUES = 1_000_000;

const MINIMAL_MANIFEST = `a minimal manifest:

name: shop
services:
  web:
    version: 1.0.0
    tier: high
    run: { command: node, args: [server.js] }`;

// yaml's wording where it speaks to programmers rather than to authors.
const YAML_MESSAGES: Readonly<Record<string, string>> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document',
};

const YAML_HINTS: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: 'YAML indents with spaces; replace the tabs',
  MULTIPLE_DOCS: 'a manifest is a single YAML document; remove the extra `---`',
  BAD_INDENT: 'check that entries of the same mapping or list line up',
  MISSING_CHAR: 'a flow collection ({ } or [ ]) or a quoted string is not closed',
  BLOCK_AS_IMPLICIT_KEY: 'a value cannot start a nested mapping on the same line as its key',
};

/**
 * A hint from the line itself where yaml's message is cryptic: `version 1.0.0` (a key without
 * its colon) is reported as a multi-line implicit key.
 */
function syntaxHint(error: YAMLError, text: string, at: Position): string | undefined {
  if (error.code !== 'MULTILINE_IMPLICIT_KEY') return undefined;
  const line = text.split('\n', at.line)[at.line - 1] ?? '';
  const key = /^\s*([A-Za-z_][\w.-]*)\s+([^:#\s][^:#]*?)\s*$/.exec(line);
  return key ? `a key needs a colon: write \`${key[1]}: ${key[2]}\`` : undefined;
}

export function parseManifest(text: string, options: { file?: string } = {}): Result<ParsedSource> {
  const report = new Report(options.file);

  const bytes = utf8Length(text);
  if (bytes > LIMITS.manifestBytes) {
    report.error(
      'manifest-too-large',
      `the manifest is ${bytes} bytes; the limit is ${LIMITS.manifestBytes} bytes (1 MiB)`,
      [],
      {
        hint: 'a manifest describes services; keep large values (configuration files, certificates) outside it',
      },
    );
    return report.failure();
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    merge: true,
    uniqueKeys: false,
  });
  const source = createSourceLocator(doc, lines);
  const at = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  for (const warning of doc.warnings) report.yaml('warning', warning, at(warning.pos[0]));
  for (const error of doc.errors) {
    const where = at(error.pos[0]);
    report.yaml('error', error, where, syntaxHint(error, text, where));
  }
  // A document that failed to parse yields a guessed value; validating the guess would
  // only bury the syntax errors under problems that are not there.
  if (doc.errors.length > 0) return report.failure();

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    report.error('empty-manifest', 'the manifest is empty', [], {
      at: { line: 1, column: 1 },
      hint: MINIMAL_MANIFEST,
    });
    return report.failure();
  }
  if (!isMap(doc.contents)) {
    const found = isSeq(doc.contents) ? 'a list' : 'a single value';
    report.error('not-a-mapping', `the manifest must be a mapping of keys to values, found ${found}`, [], {
      at: source.locate([]),
      hint: MINIMAL_MANIFEST,
    });
    return report.failure();
  }

  const nodes = inspectNodes(doc, report, at);
  if (nodes.unresolvedAliases > 0) return report.failure();

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount.
    if (!(error instanceof ReferenceError)) throw error;
    report.error('yaml-alias-limit', 'aliases expand the manifest too much', [], {
      at: source.locate([]),
      hint: `use each anchor fewer times (at most ${MAX_ALIAS_COUNT} alias expansions)`,
    });
    return report.failure();
  }
  if (nodes.aliases > 0 && exceedsValues(data, MAX_EXPANDED_VALUES)) {
    report.error(
      'yaml-alias-limit',
      `aliases expand the manifest to more than ${MAX_EXPANDED_VALUES} values`,
      [],
      {
        at: source.locate([]),
        hint: 'write the repeated parts out, or anchor smaller pieces',
      },
    );
    return report.failure();
  }

  if (!checkLimits(data, report, source)) return report.failure();

  const parsed = ManifestSchema.safeParse(data);
  if (!parsed.success) {
    const problems = problemsFromIssues(parsed.error.issues, {
      schema: ManifestSchema,
      data,
      source,
      file: options.file,
    });
    report.add(...problems);
  }
  if (!parsed.success || !report.ok()) return report.failure();
  return report.success({ manifest: normalizeManifest(parsed.data), locate: source.locate });
}

/** Problems gathered in any order, handed back sorted by where they are written. */
class Report {
  private readonly file: string | undefined;
  private readonly problems: Problem[] = [];

  constructor(file: string | undefined) {
    this.file = file;
  }

  add(...problems: Problem[]): void {
    this.problems.push(...problems);
  }

  error(
    code: ManifestProblemCode,
    message: string,
    path: FieldPath,
    extra: { at?: Position | undefined; hint?: string | undefined } = {},
  ): void {
    this.problems.push({
      severity: 'error',
      code,
      message,
      path,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(extra.at === undefined ? {} : { line: extra.at.line, column: extra.at.column }),
      ...(extra.hint === undefined ? {} : { hint: extra.hint }),
    });
  }

  yaml(severity: 'error' | 'warning', error: YAMLError, at: Position, better?: string): void {
    const hint = better ?? YAML_HINTS[error.code];
    this.problems.push({
      severity,
      code: severity === 'error' ? 'yaml-syntax' : 'yaml-warning',
      message: YAML_MESSAGES[error.code] ?? error.message,
      path: [],
      ...(this.file === undefined ? {} : { file: this.file }),
      line: at.line,
      column: at.column,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  ok(): boolean {
    return !this.problems.some((p) => p.severity === 'error');
  }

  failure(): { readonly ok: false; readonly problems: readonly Problem[] } {
    return { ok: false, problems: this.sorted() };
  }

  success<T>(value: T): Result<T> {
    return { ok: true, value, warnings: this.sorted() };
  }

  private sorted(): Problem[] {
    const unplaced = Number.MAX_SAFE_INTEGER;
    return [...this.problems].sort(
      (a, b) =>
        (a.line ?? unplaced) - (b.line ?? unplaced) || (a.column ?? unplaced) - (b.column ?? unplaced),
    );
  }
}

/**
 * One pass over the nodes for what the yaml parser leaves to us: duplicate keys (yaml's
 * own check compares every key with every earlier one, quadratic in a map of thousands
 * of services) and aliases, counted, and reported when their anchor does not exist.
 */
function inspectNodes(
  doc: Document,
  report: Report,
  at: (offset: number) => Position,
): { aliases: number; unresolvedAliases: number } {
  let aliases = 0;
  let unresolvedAliases = 0;
  const pending: { node: unknown; path: FieldPath }[] = [{ node: doc.contents, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, path } = next;
    if (isAlias(node)) {
      aliases++;
      if (node.resolve(doc) === undefined) {
        unresolvedAliases++;
        report.error('yaml-syntax', `unknown alias \`*${node.source}\``, path, {
          at: node.range ? at(node.range[0]) : undefined,
          hint: `define the anchor \`&${node.source}\` before this alias`,
        });
      }
    } else if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (isMergeKey(pair.key)) {
          pending.push({ node: pair.value, path });
          continue;
        }
        const key = keyText(pair.key);
        if (keys.has(key)) {
          const range = (pair.key as Node | null)?.range;
          report.error(
            'duplicate-key',
            `duplicate key \`${key}\`: it already appears earlier in this mapping`,
            [...path, key],
            {
              at: range ? at(range[0]) : undefined,
              hint: 'remove one of them or merge them; as written, the last one wins',
            },
          );
        }
        keys.add(key);
        if (isCollection(pair.key) || isAlias(pair.key)) pending.push({ node: pair.key, path });
        pending.push({ node: pair.value, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => pending.push({ node: item, path: [...path, index] }));
    }
  }
  return { aliases, unresolvedAliases };
}

/** Checks the limits zod cannot express cheaply; false when validating further is pointless. */
function checkLimits(data: unknown, report: Report, source: SourceLocator): boolean {
  const services = isRecord(data) ? data['services'] : undefined;
  if (!isRecord(services)) return true;
  const names = Object.keys(services);
  if (names.length > LIMITS.services) {
    report.error(
      'too-many-services',
      `${names.length} services; the limit is ${LIMITS.services}`,
      ['services'],
      {
        at: source.locate(['services']),
        hint: 'split the architecture into several manifests',
      },
    );
    return false;
  }
  for (const name of names) {
    const service = services[name];
    const dependsOn = isRecord(service) ? service['dependsOn'] : undefined;
    if (!isRecord(dependsOn)) continue;
    const count = Object.keys(dependsOn).length;
    if (count > LIMITS.dependenciesPerService) {
      const path = ['services', name, 'dependsOn'];
      report.error(
        'too-many-dependencies',
        `${count} dependencies; the limit is ${LIMITS.dependenciesPerService} per service`,
        path,
        { at: source.locate(path) },
      );
    }
  }
  return true;
}

/** Whether walking `value` (through shared, aliased parts as often as they appear) meets more than `limit` values. */
function exceedsValues(value: unknown, limit: number): boolean {
  let seen = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    if (++seen > limit) return true;
    const current = stack.pop();
    if (current !== null && typeof current === 'object')
      for (const child of Object.values(current)) stack.push(child);
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** UTF-8 size without encoding a copy of the text. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
