// Compose's variable interpolation, as the Compose specification defines it: `$VAR`,
// `${VAR}`, `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`,
// `${VAR:+other}` / `${VAR+other}`, nested defaults, and `$$` for a dollar sign. Values
// come from the `.env` file beside the compose file — never from the importing shell, whose
// secrets have no business in a manifest. Pure.

export interface Interpolation {
  readonly text: string;
  /** Variables used but not set (each replaced by nothing, as compose does), and `?` errors. */
  readonly problems: readonly string[];
}

export function interpolate(text: string, variables: Readonly<Record<string, string>>): Interpolation {
  const problems: string[] = [];
  const out = expand(text, variables, problems);
  return { text: out, problems };
}

function expand(text: string, variables: Readonly<Record<string, string>>, problems: string[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char !== '$') {
      out += char;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) {
        out += text.slice(i);
        problems.push(`unclosed \${ in "${text}"`);
        break;
      }
      out += braced(text.slice(i + 2, end), variables, problems);
      i = end + 1;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (bare) {
      out += lookup(bare[0], variables, problems);
      i += 1 + bare[0].length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

function braced(inner: string, variables: Readonly<Record<string, string>>, problems: string[]): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(inner);
  if (!match) {
    problems.push(`\${${inner}} is not a variable reference`);
    return '';
  }
  const [, name = '', colon, operator, word = ''] = match;
  const value = variables[name];
  const unset = value === undefined || (colon === ':' && value === '');
  switch (operator) {
    case '-':
      return unset ? expand(word, variables, problems) : value!;
    case '+':
      return unset ? '' : expand(word, variables, problems);
    case '?':
      if (unset) {
        problems.push(`${name}: ${expand(word, variables, problems) || 'required'}`);
        return '';
      }
      return value!;
    default:
      return lookup(name, variables, problems);
  }
}

function lookup(name: string, variables: Readonly<Record<string, string>>, problems: string[]): string {
  const value = variables[name];
  if (value === undefined) {
    problems.push(`${name} is not set (in .env): it became an empty string`);
    return '';
  }
  return value;
}

/** The index of the `}` closing a `${` whose content starts at `from`, braces nested. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}
