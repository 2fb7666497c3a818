// `${VAR}` in a manifest, as docker compose does it: the operator's environment (and the
// `.env` file beside the manifest) fill in values before anything else reads them.
// `${VAR:-default}` / `${VAR-default}` give a default when unset (`:-` also when empty),
// `${VAR:?message}` / `${VAR?message}` make it required, `$${` writes a literal `${`.
// Baton's own references, `${secret:NAME}` and `${services.NAME.url}`, are not variables:
// they are left for the control plane. Only values are interpolated, never keys; each
// changed scalar is rewritten in place, so the rest of the text (comments, lines) stays.
import { isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Problem } from '../problems.ts';

export interface ManifestInterpolation {
  readonly text: string;
  /** An unset variable without default is a warning (it becomes empty); a `?` one an error. */
  readonly problems: readonly Problem[];
}

const VARIABLE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g;

export function interpolateManifest(
  text: string,
  variables: Readonly<Record<string, string | undefined>>,
  options: { file?: string | undefined } = {},
): ManifestInterpolation {
  if (!text.includes('${')) return { text, problems: [] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false });
  // Unparseable YAML: validation reports it, located, from the text as written.
  if (doc.errors.length > 0) return { text, problems: [] };
  const problems: Problem[] = [];
  const edits: { start: number; end: number; value: string }[] = [];
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${') || !node.range)
        return;
      const fieldPath = path.flatMap((ancestor, i): (string | number)[] => {
        if (isSeq(ancestor)) return [ancestor.items.indexOf((path[i + 1] ?? node) as never)];
        return isPair(ancestor) && isScalar(ancestor.key) ? [String(ancestor.key.value)] : [];
      });
      const at = lines.linePos(node.range[0]);
      const report = (severity: Problem['severity'], code: string, message: string, hint: string) =>
        problems.push({
          severity,
          code,
          message,
          path: fieldPath,
          file: options.file,
          line: at.line,
          column: at.col,
          hint,
        });
      const value = node.value.replace(
        VARIABLE,
        (
          whole,
          escaped: string,
          name: string,
          colon: string | undefined,
          operator: string | undefined,
          word = '',
        ) => {
          if (escaped) return whole.slice(1);
          const found = variables[name];
          const unset = found === undefined || (colon === ':' && found === '');
          if (!unset) return found;
          if (operator === '-') return word;
          if (operator === '?') {
            report(
              'error',
              'variable-required',
              `${name} is required: ${word || 'it is not set'}`,
              `set ${name} in the environment or in the .env file beside the manifest`,
            );
            return '';
          }
          report(
            'warning',
            'variable-unset',
            `${name} is not set: it became an empty string`,
            `set it, or give a default: \${${name}:-value}`,
          );
          return '';
        },
      );
      if (value === node.value) return;
      const [start, end] = node.range;
      // A plain scalar stays plain when it can, so `port: ${PORT}` is a number as YAML reads it;
      // anything else becomes a double-quoted string (a JSON string is one). A block scalar's
      // range ends with its line break, which is kept.
      const plain = node.type === 'PLAIN' && /^[A-Za-z0-9_./-]+$/.test(value) ? value : JSON.stringify(value);
      edits.push({ start, end, value: text.slice(start, end).endsWith('\n') ? `${plain}\n` : plain });
    },
  });
  let out = text;
  // From the end, so that earlier offsets stay valid.
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.value + out.slice(edit.end);
  return { text: out, problems };
}
