// Turns zod's issues into problems a person can act on: each says what was found, what
// was expected, where it is written, and, where a likely fix exists, suggests it.
import { z } from 'zod';
import type { FieldPath, Problem } from '../problems.ts';
import type { ManifestProblemCode } from './problem-codes.ts';
import { NAME_PATTERN } from './schema.ts';
import type { Position, SourceLocator } from './source-locator.ts';
import { didYouMean, suggestName } from './suggestions.ts';

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

export interface IssueContext {
  /** The schema the data was checked against, walked to find allowed keys and descriptions. */
  readonly schema: Schema;
  readonly data: unknown;
  readonly source: SourceLocator;
  readonly file: string | undefined;
}

const NAME_PATTERN_TEXT = String(NAME_PATTERN);

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  null: 'an empty value',
};

/**
 * Every issue becomes a problem, except a missing field that an unknown key next to it
 * already explains (`rnage` for `range`).
 */
export function problemsFromIssues(issues: readonly Issue[], context: IssueContext): Problem[] {
  const translator = new IssueTranslator(context);
  for (const issue of issues) translator.translate(issue, []);
  return translator.result();
}

/**
 * Problems reported in detail. A megabyte of bad keys is a mistake (or an attack), not two
 * hundred thousand things to fix: past this many, the rest are only counted — locating and
 * suggesting for each would hold the control plane for seconds, and the list alone would
 * weigh tens of megabytes.
 */
export const MAX_PROBLEMS = 100;

class IssueTranslator {
  private readonly context: IssueContext;
  private readonly problems: Problem[] = [];
  // Fields an unknown key was taken for: `rnage` suggesting `range` already explains
  // why `range` is missing, so that second problem would only be noise.
  private readonly suggestedFields = new Set<string>();

  constructor(context: IssueContext) {
    this.context = context;
  }

  result(): Problem[] {
    const seen = new Set<string>();
    const problems = this.problems.filter((p) => {
      if (p.code === 'missing-field' && this.suggestedFields.has(pathKey(p.path))) return false;
      const key = `${p.code}\0${pathKey(p.path)}\0${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (this.omitted === 0) return problems;
    return [
      ...problems,
      {
        severity: 'error',
        code: 'more-problems',
        message: `and ${this.omitted} more problem${this.omitted === 1 ? '' : 's'} (the first ${MAX_PROBLEMS} are listed)`,
        path: [],
        ...(this.context.file === undefined ? {} : { file: this.context.file }),
        hint: 'fix these and validate again; a file this wrong may not be the manifest you meant',
      },
    ];
  }

  /** Problems past MAX_PROBLEMS: counted, not translated. */
  private omitted = 0;

  private get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }

  translate(issue: Issue, base: FieldPath): void {
    if (this.full) {
      this.omitted += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
      return;
    }
    const path: FieldPath = [...base, ...issue.path.map((s) => (typeof s === 'number' ? s : String(s)))];
    const value = valueAt(this.context.data, path);
    // zod reports an absent field as whatever its schema expected (a string, one of an
    // enum, a union); to the author it is simply missing.
    const rejectsAbsence = ['invalid_type', 'invalid_value', 'invalid_union'].includes(issue.code);
    if (rejectsAbsence && value === undefined && this.isField(path)) return this.missingField(path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return this.unknownKeys(issue.keys, path);
      case 'invalid_type':
        return this.invalidType(issue.expected, path, value);
      case 'invalid_value': {
        const allowed = issue.values.map(String);
        const match = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
        return this.add('invalid-value', `must be one of ${allowed.join(', ')}${found(value)}`, path, {
          hint: match === undefined ? undefined : `did you mean \`${match}\`?`,
        });
      }
      case 'too_small':
        return this.add('too-small', boundMessage('min', issue.origin, issue.minimum, issue, value), path);
      case 'too_big':
        return this.add('too-large', boundMessage('max', issue.origin, issue.maximum, issue, value), path);
      case 'invalid_format':
        if (issue.pattern === NAME_PATTERN_TEXT) return this.invalidName(issue.message, path, value);
        return this.add('invalid-format', formatMessage(issue) + found(value), path);
      case 'invalid_union':
        return this.invalidUnion(issue.errors, path, value);
      case 'invalid_key':
        return this.invalidKey(issue.issues, path);
      case 'custom':
        // A refinement on a mapping relates several fields (`min` vs `max`, one probe);
        // on a scalar it is a rule about that one value (a semver version).
        return isScalar(value)
          ? this.add('invalid-value', issue.message + found(value), path)
          : this.add('invalid-combination', issue.message, path);
      default:
        return this.add('invalid-value', issue.message, path);
    }
  }

  private unknownKeys(keys: readonly string[], parent: FieldPath): void {
    const allowed = allowedKeysAt(this.context.schema, parent);
    for (const [index, key] of keys.entries()) {
      if (this.full) {
        this.omitted += keys.length - index;
        return;
      }
      const match = didYouMean(key, allowed);
      if (match !== undefined) this.suggestedFields.add(pathKey([...parent, match]));
      const hint =
        match !== undefined
          ? `did you mean \`${match}\`?`
          : allowed.length > 0
            ? `allowed keys here: ${allowed.join(', ')}`
            : undefined;
      const path = [...parent, key];
      this.add('unknown-key', `unknown key \`${key}\``, path, {
        at: this.context.source.locateKey(path),
        hint,
      });
    }
  }

  /** Whether `path` names a key of a mapping (rather than an item of a list, or nothing). */
  private isField(path: FieldPath): boolean {
    return typeof path.at(-1) === 'string' && isMapping(valueAt(this.context.data, path.slice(0, -1)));
  }

  private missingField(path: FieldPath): void {
    this.add('missing-field', `missing required field \`${String(path.at(-1))}\``, path, {
      at: this.context.source.locate(path.slice(0, -1)),
      hint: fieldHint(this.context.schema, path),
    });
  }

  private invalidType(expected: string, path: FieldPath, value: unknown): void {
    this.add('invalid-type', `expected ${EXPECTED[expected] ?? expected}, found ${describe(value)}`, path, {
      hint:
        expected === 'string'
          ? this.quoteHint(path, value)
          : expected === 'boolean' && typeof value === 'string'
            ? 'write true or false (YAML 1.2 reads yes, no, on and off as text)'
            : undefined,
    });
  }

  private invalidUnion(branches: readonly (readonly Issue[])[], path: FieldPath, value: unknown): void {
    // A branch that failed on the value's type says nothing about what the author
    // meant; a branch that got further (a mapping with a bad field) does.
    const rejectedOnType = (branch: readonly Issue[]) =>
      branch.every((i) => i.code === 'invalid_type' && i.path.length === 0);
    const closer = branches.filter((b) => !rejectedOnType(b));
    if (closer.length > 0) {
      const closest = closer.reduce((a, b) => (b.length < a.length ? b : a));
      for (const issue of closest) this.translate(issue, path);
      return;
    }
    const expected = [
      ...new Set(branches.flatMap((b) => b.map((i) => (i.code === 'invalid_type' ? i.expected : '')))),
    ].filter((e) => e !== '');
    if (expected.length === 0) return this.add('invalid-value', 'does not match any allowed form', path);
    const phrases = expected.map((e) => EXPECTED[e] ?? e);
    this.add('invalid-type', `expected ${phrases.join(' or ')}, found ${describe(value)}`, path, {
      hint: expected.includes('string') ? this.quoteHint(path, value) : undefined,
    });
  }

  private invalidKey(nested: readonly Issue[], path: FieldPath): void {
    const key = String(path.at(-1));
    const at = this.context.source.locateKey(path);
    const nameIssue = nested.find((i) => i.code === 'invalid_format' && i.pattern === NAME_PATTERN_TEXT);
    if (nameIssue !== undefined) {
      const suggestion = suggestName(key);
      this.add('invalid-name', `\`${key}\` is not a valid name: it ${nameIssue.message}`, path, {
        at,
        hint: suggestion === undefined ? undefined : `rename it to \`${suggestion}\``,
      });
    } else {
      const first = nested[0];
      const reason =
        first?.code === 'invalid_format' ? formatMessage(first) : (first?.message ?? 'not allowed');
      this.add('invalid-key', `invalid key \`${key}\`: ${reason}`, path, { at });
    }
    // zod skips the value of a rejected key; check it anyway so one bad name does not
    // hide every other problem in that entry.
    const record = schemasAt(this.context.schema, path.slice(0, -1)).find((s) => s instanceof z.ZodRecord);
    if (record instanceof z.ZodRecord) {
      const checked = z.safeParse(record.valueType, valueAt(this.context.data, path));
      if (!checked.success) for (const issue of checked.error.issues) this.translate(issue, path);
    }
  }

  private invalidName(rule: string, path: FieldPath, value: unknown): void {
    const suggestion = typeof value === 'string' ? suggestName(value) : undefined;
    this.add('invalid-name', rule + found(value), path, {
      hint: suggestion === undefined ? undefined : `use \`${suggestion}\``,
    });
  }

  /** `version: 1.0` is the number 1 to YAML; quoting keeps what the author wrote. */
  private quoteHint(path: FieldPath, value: unknown): string | undefined {
    if (typeof value !== 'number') return undefined;
    const written = this.context.source.scalarSource(path);
    // `version: 3.2` is a number to YAML, and not a version either: say both.
    if (path.at(-1) === 'version' && written !== undefined && /^\d+(\.\d+)?$/.test(written)) {
      const full = written.includes('.') ? `${written}.0` : `${written}.0.0`;
      return `a version has three parts (major.minor.patch): write ${full}; YAML reads ${written} as a number`;
    }
    return written !== undefined && written !== String(value)
      ? `quote it to keep it as text: "${written}"`
      : undefined;
  }

  private add(
    code: ManifestProblemCode,
    message: string,
    path: FieldPath,
    extra: { at?: Position | undefined; hint?: string | undefined } = {},
  ): void {
    if (this.full) {
      this.omitted++;
      return;
    }
    const at = 'at' in extra ? extra.at : this.context.source.locate(path);
    this.problems.push({
      severity: 'error',
      code,
      message,
      path,
      ...(this.context.file === undefined ? {} : { file: this.context.file }),
      ...(at === undefined ? {} : { line: at.line, column: at.column }),
      ...(extra.hint === undefined ? {} : { hint: extra.hint }),
    });
  }
}

function boundMessage(
  side: 'min' | 'max',
  origin: string,
  bound: number | bigint,
  issue: { readonly inclusive?: boolean; readonly message: string },
  value: unknown,
): string {
  const inclusive = issue.inclusive !== false;
  switch (origin) {
    case 'number':
    case 'int': {
      const rule =
        side === 'min'
          ? inclusive
            ? `must be at least ${bound}`
            : `must be greater than ${bound}`
          : inclusive
            ? `must be at most ${bound}`
            : `must be less than ${bound}`;
      return rule + found(value);
    }
    case 'string':
      if (side === 'min')
        return bound === 1 ? 'must not be empty' : `must be at least ${bound} characters long`;
      return `must be at most ${bound} characters long, found ${String(value).length}`;
    case 'array': {
      const count = Array.isArray(value) ? `, found ${value.length}` : '';
      return `must have at ${side === 'min' ? 'least' : 'most'} ${bound} item${bound === 1 ? '' : 's'}${count}`;
    }
    default:
      return issue.message;
  }
}

function formatMessage(issue: z.core.$ZodIssueInvalidStringFormat): string {
  // A message written in the schema beats anything generic.
  if (!issue.message.startsWith('Invalid')) return issue.message;
  const details = issue as { prefix?: string; suffix?: string; includes?: string };
  switch (issue.format) {
    case 'starts_with':
      return `must start with "${details.prefix}"`;
    case 'ends_with':
      return `must end with "${details.suffix}"`;
    case 'includes':
      return `must contain "${details.includes}"`;
    case 'regex':
      return `must match ${issue.pattern}`;
    default:
      return `must be a valid ${issue.format}`;
  }
}

/** Description (and allowed values) of the field at `path`, to say what a missing one is for. */
function fieldHint(root: Schema, path: FieldPath): string | undefined {
  const parts: string[] = [];
  for (const schema of schemasAt(root, path, false)) {
    const description = describedAs(schema);
    if (description !== undefined) parts.push(description.replace(/\.$/, ''));
  }
  for (const schema of schemasAt(root, path)) {
    if (schema instanceof z.ZodEnum) parts.push(`one of ${schema.options.map(String).join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function describedAs(schema: Schema): string | undefined {
  for (let current: Schema | undefined = schema; current !== undefined; current = innerOf(current)) {
    const description = z.globalRegistry.get(current)?.description;
    if (description !== undefined) return description;
  }
  return undefined;
}

/** Keys the schema accepts in the mapping at `path` (through unions, optionals, records). */
export function allowedKeysAt(root: Schema, path: FieldPath): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(root, path)) {
    if (schema instanceof z.ZodObject) for (const key of Object.keys(schema.shape)) keys.add(key);
  }
  return [...keys];
}

/** The schemas that may apply at `path`; unwrapped unless `unwrapLast` is false. */
function schemasAt(root: Schema, path: FieldPath, unwrapLast = true): Schema[] {
  let current: Schema[] = [root];
  for (const segment of path) {
    const next: Schema[] = [];
    for (const schema of current.flatMap(unwrap)) {
      if (schema instanceof z.ZodObject && typeof segment === 'string') {
        const field = (schema.shape as Record<string, Schema | undefined>)[segment];
        if (field !== undefined) next.push(field);
      } else if (schema instanceof z.ZodRecord) {
        next.push(schema.valueType);
      } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
        next.push(schema.element);
      }
    }
    current = next;
  }
  return unwrapLast ? current.flatMap(unwrap) : current;
}

function unwrap(schema: Schema): Schema[] {
  if (schema instanceof z.ZodUnion) return (schema.options as readonly Schema[]).flatMap(unwrap);
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  const inner = innerOf(schema);
  return inner === undefined ? [schema] : unwrap(inner);
}

/** The wrapped schema of optional, default, nullable, readonly and the like. */
function innerOf(schema: Schema): Schema | undefined {
  const def = schema._zod.def as { innerType?: Schema };
  return def.innerType;
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function isMapping(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `\`${value}\``;
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function found(value: unknown): string {
  if (typeof value === 'string') return `, found ${quote(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `, found ${value}`;
  return '';
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text);
}

function pathKey(path: FieldPath): string {
  return JSON.stringify(path);
}
