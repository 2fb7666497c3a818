// The images a Dockerfile builds on (`FROM`, `COPY --from=`), read before a build so that a
// missing one is named up front: the engine would otherwise try to pull it, and Baton never
// pulls. Pure. Follows the Dockerfile reference: line continuations, comments, global `ARG`s
// (those before the first FROM) substituted into FROM, stage names and indices.

export interface BaseImages {
  /** External images, in order of first use; never `scratch`, never a stage of this file. */
  readonly images: readonly string[];
}

export function baseImagesOf(
  dockerfile: string,
  buildArgs: Readonly<Record<string, string>> = {},
): BaseImages {
  const globals = new Map<string, string>();
  const stages: string[] = [];
  const images: string[] = [];
  const use = (image: string) => {
    if (image.toLowerCase() !== 'scratch' && !images.includes(image)) images.push(image);
  };
  for (const instruction of instructionsOf(dockerfile)) {
    const [keyword = '', ...words] = instruction.split(/\s+/);
    switch (keyword.toUpperCase()) {
      case 'ARG':
        // Only the ARGs before the first FROM may be used in FROM lines.
        if (stages.length > 0) break;
        for (const word of words) {
          const eq = word.indexOf('=');
          const name = eq < 0 ? word : word.slice(0, eq);
          const fallback = eq < 0 ? undefined : unquote(word.slice(eq + 1));
          const value = buildArgs[name] ?? fallback;
          if (value !== undefined) globals.set(name, value);
        }
        break;
      case 'FROM': {
        const operands = words.filter((w) => !w.startsWith('--'));
        const image = substitute(operands[0] ?? '', globals);
        if (image !== '' && !stages.includes(image.toLowerCase())) use(image);
        const alias = operands[1]?.toUpperCase() === 'AS' ? operands[2] : undefined;
        stages.push((alias ?? `#${stages.length}`).toLowerCase());
        break;
      }
      case 'COPY': {
        for (const word of words) {
          const from = /^--from=(.+)$/i.exec(word)?.[1];
          if (from === undefined) continue;
          const source = substitute(unquote(from), globals);
          const isStage = stages.includes(source.toLowerCase()) || /^\d+$/.test(source);
          if (!isStage) use(source);
        }
        break;
      }
    }
  }
  return { images };
}

/** Instructions with continuations joined and comments dropped. */
function instructionsOf(dockerfile: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of dockerfile.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && line.startsWith('#')) continue;
    // A comment line inside a continued instruction is skipped, as the builder does.
    if (current !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') out.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alternative}`; unknown names become empty. */
function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _,
      braced: string | undefined,
      operator: string | undefined,
      word: string | undefined,
      bare: string | undefined,
    ) => {
      const value = values.get(braced ?? bare ?? '');
      if (operator === '-') return value === undefined || value === '' ? (word ?? '') : value;
      if (operator === '+') return value === undefined || value === '' ? '' : (word ?? '');
      return value ?? '';
    },
  );
}

function unquote(text: string): string {
  return /^(["']).*\1$/.test(text) ? text.slice(1, -1) : text;
}
