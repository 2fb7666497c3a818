// `.env` and `env_file` contents as compose reads them: `KEY=VALUE` lines, `#` comments,
// an optional `export `, values unquoted (trimmed, ` #` starts a comment), single-quoted
// (literal) or double-quoted (`\n`, `\t`, `\"`, `\\` escapes; may span lines). Pure.

export interface DotEnv {
  readonly values: Readonly<Record<string, string>>;
  /** Lines it could not read, with their number. */
  readonly problems: readonly string[];
}

export function parseDotEnv(text: string): DotEnv {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      problems.push(`line ${i + 1}: ${JSON.stringify(line)} is not KEY=VALUE`);
      continue;
    }
    const [, key = '', raw = ''] = match;
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      values[key] = end < 0 ? raw.slice(1) : raw.slice(1, end);
      continue;
    }
    if (raw.startsWith('"')) {
      let body = raw.slice(1);
      // A double-quoted value may go on over the next lines until its closing quote.
      while (!/(^|[^\\])(\\\\)*"/.test(body) && i + 1 < lines.length) body += '\n' + lines[++i];
      const end = closingQuote(body);
      values[key] = unescape(end < 0 ? body : body.slice(0, end));
      continue;
    }
    values[key] = raw.replace(/\s+#.*$/, '').trim();
  }
  return { values, problems };
}

function closingQuote(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function unescape(text: string): string {
  return text.replace(
    /\\([nrt"\\])/g,
    (_, c: string) => ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' })[c]!,
  );
}
